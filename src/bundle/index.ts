/**
 * `sarge bundle`: one release as one file, made offline from a git checkout — `git archive HEAD`
 * plus the wheels its requirements need under `.sarge/wheels/`, the install list and the
 * launcher `.sarge/run` — written as `<app>-<commit>.tar.gz`. Same commit and wheels, same bytes.
 * Two gzip members (gzip, tar and pip read them as one stream): the code at gzip's default
 * level, the wheels at level 1 — they are zip files already, and compressing them again at
 * level 6 was most of the time left after Node's start.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";
import { fileHash } from "../python-env/hashes.js";
import { BUNDLE_SUMS, BUNDLE_WHEELS, SARGE_DIR } from "../python-env/source.js";
import { templatesDir } from "../util/package-root.js";
import { appName, readCheckout, refuseTrackedSargeDir } from "./git.js";
import { END_BLOCKS, entryBytes, withoutEnd, type TarEntry } from "./tar.js";
import { neededWheels } from "./wheels.js";

export interface BundleOptions {
  /** Inside the checkout. */
  cwd: string;
  /** The folder the wheels are taken from (--wheels, or a home's dist/). */
  wheels: string;
  /** Where the bundle is written (default: cwd). */
  outDir?: string;
  /** Default: the checkout folder's name. */
  name?: string;
}

/** What `sarge bundle --json` prints. */
export interface BundleResult {
  file: string;
  sha256: string;
  bytes: number;
  app: string;
  commit: string;
  /** Wheel file names under .sarge/wheels/. */
  wheels: string[];
  warning: string | null;
}

export async function makeBundle(options: BundleOptions): Promise<BundleResult> {
  const checkout = readCheckout(resolve(options.cwd));
  const wheelsDir = resolve(options.wheels);
  const tree = await mkdtemp(join(tmpdir(), "sarge-bundle-"));
  try {
    execFileSync("tar", ["-x", "-C", tree], { input: checkout.archive, stdio: ["pipe", "ignore", "pipe"] });
    refuseTrackedSargeDir(tree);
    const needed = await neededWheels(tree, wheelsDir);
    const app = options.name ?? appName(checkout.top);
    const outDir = resolve(options.outDir ?? options.cwd);
    await mkdir(outDir, { recursive: true });
    const file = join(outDir, `${app}-${checkout.commit}.tar.gz`);
    const temp = join(outDir, `.${basename(file)}.${process.pid}.tmp`);
    const hash = createHash("sha256");
    let bytes = 0;
    const entries = await sargeEntries(tree, needed);
    try {
      await pipeline(
        Readable.from(bundleMembers(checkout.archive, entries, needed.files, checkout.commitTime)),
        async function* (compressed: AsyncIterable<Buffer>) {
          for await (const chunk of compressed) {
            hash.update(chunk);
            bytes += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temp),
      );
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { file, sha256: hash.digest("hex"), bytes, app, commit: checkout.commit, wheels: needed.files.map((path) => basename(path)), warning: needed.warning };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

/** .sarge/ without the wheels: the launcher, the install list, what sarge derived from a lock. */
async function sargeEntries(tree: string, needed: Awaited<ReturnType<typeof neededWheels>>): Promise<TarEntry[]> {
  const entries: TarEntry[] = [
    { name: SARGE_DIR, data: null, mode: 0o755 },
    { name: `${SARGE_DIR}/run`, data: await readFile(join(templatesDir, "bundle", "run.sh")), mode: 0o755 },
  ];
  if (needed.installFrom !== "") {
    entries.push({ name: `${SARGE_DIR}/install.txt`, data: Buffer.from(`-r ${needed.installFrom}\n--no-index\n`), mode: 0o644 });
  }
  const sums = await Promise.all(needed.files.map(async (wheel) => `${needed.sha256.get(wheel) ?? (await fileHash(wheel))}  ${basename(wheel)}\n`));
  entries.push({ name: BUNDLE_SUMS, data: Buffer.from(sums.join("")), mode: 0o644 });
  for (const derived of needed.derived) entries.push({ name: derived, data: await readFile(join(tree, derived)), mode: 0o644 });
  entries.push({ name: BUNDLE_WHEELS, data: null, mode: 0o755 });
  // by the names the tar holds (folders end in "/"), so .sarge/wheels/ is followed by its wheels
  const tarName = (entry: TarEntry) => (entry.data === null ? `${entry.name}/` : entry.name);
  return entries.sort((a, b) => (tarName(a) < tarName(b) ? -1 : tarName(a) > tarName(b) ? 1 : 0));
}

/** The compressed bundle: the code and .sarge/'s small files, then the wheels and the tar's end. */
async function* bundleMembers(archive: Buffer, entries: TarEntry[], wheels: string[], mtime: number): AsyncGenerator<Buffer> {
  yield* gzipMember(
    (function* () {
      yield withoutEnd(archive);
      for (const entry of entries) yield* entryBytes(entry, mtime);
    })(),
    constants.Z_DEFAULT_COMPRESSION,
  );
  yield* gzipMember(
    (async function* () {
      // one wheel in memory at a time
      for (const wheel of wheels) yield* entryBytes({ name: `${BUNDLE_WHEELS}/${basename(wheel)}`, data: await readFile(wheel), mode: 0o644 }, mtime);
      yield END_BLOCKS;
    })(),
    1,
  );
}

async function* gzipMember(chunks: Iterable<Buffer> | AsyncIterable<Buffer>, level: number): AsyncGenerator<Buffer> {
  const gzip = createGzip({ level });
  const fed = pipeline(Readable.from(chunks), gzip);
  // its failure also ends the loop below, which throws it
  fed.catch(() => undefined);
  for await (const chunk of gzip) yield chunk as Buffer;
  await fed;
}

/**
 * sarge's tar reader and entry policy against GNU tar, on generated archives
 * (generated-tars.ts: colliding names, links, `..`, absolute paths, ustar,
 * GNU and pax headers, and mutated ones: cut, flipped, rewritten fields),
 * each fed to unpackArchive in chunks of random sizes (1 byte for some) and
 * to `tar -x` in a scratch folder. Whenever sarge accepts, GNU tar must
 * accept too and write the same tree (names, types, contents, link targets;
 * modes as the policy sets them), with no link leading out of the folder;
 * whenever sarge refuses, the refusal is an ArchiveError with one clear
 * sentence. Nothing is ever written beside the folder. One divergence is
 * GNU tar's: it makes a
 * link whose target has `..` only at the end (a placeholder file until then),
 * and puts it back, or fails to, even when a later entry replaced it; there
 * sarge's later entry wins, and again only the safety checks apply.
 * Deterministic: the
 * seed is fixed (SARGE_TAR_SEED overrides it) and a failure names the seed,
 * the case and its entries.
 */
import { spawnSync } from "node:child_process";
import { lstatSync, type Stats, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { dirMode, fileMode } from "../../../src/archive/entry-policy.js";
import { TarReader, type TarHeader } from "../../../src/archive/tar-reader.js";
import { ArchiveError, unpackArchive } from "../../../src/archive/unpack.js";
import { generateTar, random, type GeneratedEntry, type GeneratedTar } from "./generated-tars.js";
import { CAPS, currentUmask, onlyDestIn, removeSandbox, sandbox } from "./support.js";

const SEED = Number(process.env["SARGE_TAR_SEED"] ?? 20261207);
const CASES = 250;
const MAX_LINK_HOPS = 40;

/** Each path under `dir` (relative) described by type, policy-relevant mode bits, and content or target. */
function readTree(dir: string, umask: number, as: "sarge" | "tar", envLinks: ReadonlySet<string> = new Set()): Map<string, string> {
  const tree = new Map<string, string>();
  const env = statSafely(join(dir, ".env"));
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel))) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const stats = lstatSync(join(dir, path));
      if (stats.isSymbolicLink()) tree.set(path, `symlink -> ${readlinkSync(join(dir, path))}`);
      else if (stats.isDirectory()) {
        // sarge gives folders dirMode (with the umask when it creates them, without when it only changes one made earlier)
        const mode = stats.mode & 0o7777;
        const expected = as === "tar" ? dirMode(mode) : mode;
        tree.set(path, as === "sarge" && (mode === (dirMode(mode) & ~umask) || mode === dirMode(mode)) ? "dir ok" : `dir ${expected.toString(8)}`);
        walk(path);
      } else if (stats.isFile()) {
        // .env is owner-only, and so is every hard link to it (one inode), also one that outlived a later .env
        const secret = (env?.isFile() === true && stats.ino === env.ino) || envLinks.has(path);
        const mode = as === "tar" ? (secret ? fileMode(stats.mode) & 0o600 : fileMode(stats.mode)) & ~umask : stats.mode & 0o7777;
        tree.set(path, `file ${mode.toString(8)} ${readFileSync(join(dir, path), "latin1")}`);
      } else tree.set(path, `other ${stats.mode.toString(8)}`);
    }
  };
  walk("");
  if (as === "tar") for (const [path, value] of tree) if (value.startsWith("dir")) tree.set(path, "dir ok");
  return tree;
}

/** The names the archive makes hard links to .env (directly or through another such link), and that no later entry replaced. */
function linksToEnv(entries: GeneratedEntry[]): Set<string> {
  const plain = (name: string) => name.replace(/^(\.\/)+/, "");
  const secret = new Set([".env"]);
  for (const entry of entries) {
    const name = plain(entry.name);
    if (entry.typeflag === "1" && secret.has(plain(entry.linkname))) secret.add(name);
    else if (name !== ".env") secret.delete(name);
  }
  secret.delete(".env");
  return secret;
}

function statSafely(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Whether the link at `rel` leads out of `dir`, resolved the way the kernel would over what is on disk. */
function linkEscapes(dir: string, rel: string): boolean {
  const stack = rel.split("/").slice(0, -1);
  let queue = readlinkSync(join(dir, rel)).split("/");
  if (queue[0] === "") return true;
  let hops = 0;
  for (let i = 0; i < queue.length; i++) {
    const piece = queue[i]!;
    if (piece === "" || piece === ".") continue;
    if (piece === "..") {
      if (stack.length === 0) return true;
      stack.pop();
      continue;
    }
    stack.push(piece);
    let target: string;
    try {
      if (!lstatSync(join(dir, ...stack)).isSymbolicLink()) continue;
      target = readlinkSync(join(dir, ...stack));
    } catch {
      continue; // missing: resolution goes on by name
    }
    if (++hops > MAX_LINK_HOPS) return false;
    if (target.startsWith("/")) return true;
    stack.pop();
    queue = [...target.split("/"), ...queue.slice(i + 1)];
    i = -1;
  }
  return false;
}

/** GNU tar's quirk: a later entry of the same name replaced a link whose target has `..`, which tar restores at the end (or fails to). */
function replacesDelayedLink(bytes: Buffer): boolean {
  const headers: TarHeader[] = [];
  const reader = new TarReader({ entry: (header) => headers.push(header), data: () => {}, end: () => {} }, false, "the archive");
  reader.push(bytes);
  const at = (name: string): string => name.split("/").filter((piece) => piece !== "" && piece !== ".").join("/");
  return headers.some(
    (header, i) => header.type === "symlink" && header.linkname?.includes("..") && headers.slice(i + 1).some((later) => at(later.name) === at(header.name)),
  );
}

function pieces(bytes: Buffer, next: () => number): { how: string; chunks: Buffer[] } {
  const roll = next();
  if (roll < 0.25 && bytes.length <= 40_000) return { how: "1-byte chunks", chunks: [...bytes].map((byte) => Buffer.from([byte])) };
  if (roll < 0.4) return { how: "one chunk", chunks: [bytes] };
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * 1100);
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return { how: "random chunks", chunks };
}

interface Outcome {
  accepted: boolean;
  message: string;
}

async function sargeUnpack(dest: string, chunks: Buffer[]): Promise<Outcome> {
  try {
    await unpackArchive(Readable.from(chunks), dest, { ...CAPS, minFreeBytes: 0 });
    return { accepted: true, message: "" };
  } catch (error) {
    if (!(error instanceof ArchiveError)) return { accepted: false, message: `not an ArchiveError: ${String(error)}` };
    return { accepted: false, message: error.message };
  }
}

/** What is wrong with sarge's handling of one archive; empty when nothing is. */
async function check(tar: GeneratedTar, next: () => number): Promise<{ accepted: boolean; problems: string[] }> {
  const box = sandbox();
  try {
    const { how, chunks } = pieces(tar.bytes, next);
    const sarge = await sargeUnpack(box.dest, chunks);
    const problems: string[] = [];
    if (onlyDestIn(box).join() !== "deploy") problems.push(`written beside the deploy folder: ${onlyDestIn(box).join(", ")}`);
    if (!sarge.accepted) {
      if (!/^(archive|unpacking entry|input is not a tar archive)\b/.test(sarge.message) || /undefined|NaN|\[object/.test(sarge.message)) {
        problems.push(`unclear refusal (${how}): ${sarge.message}`);
      }
      return { accepted: false, problems };
    }
    for (const [path, value] of readTree(box.dest, 0, "sarge")) {
      if (value.startsWith("symlink") && linkEscapes(box.dest, path)) problems.push(`${path}: a link out of the folder`);
    }
    if (replacesDelayedLink(tar.bytes)) return { accepted: true, problems };
    const scratch = join(box.root, "tar");
    mkdirSync(scratch);
    const file = join(box.root, "archive.tar");
    writeFileSync(file, tar.bytes);
    const gnu = spawnSync("tar", ["-xf", file, "-C", scratch], { encoding: "utf8" });
    if (gnu.status !== 0) problems.push(`sarge accepted (${how}), GNU tar refused: ${gnu.stderr.trim()}`);
    // not root, GNU tar gives folders their archive mode (0600: nothing in it can be looked at); files keep theirs
    spawnSync("find", [scratch, "-type", "d", "-exec", "chmod", "u+rwx", "{}", "+"]);
    const umask = currentUmask(box.root);
    const ours = readTree(box.dest, umask, "sarge");
    const theirs = readTree(scratch, umask, "tar", linksToEnv(tar.entries));
    for (const path of new Set([...ours.keys(), ...theirs.keys()])) {
      if (ours.get(path) !== theirs.get(path)) problems.push(`${path}: sarge wrote ${ours.get(path) ?? "nothing"}, GNU tar ${theirs.get(path) ?? "nothing"}`);
    }
    return { accepted: true, problems };
  } finally {
    removeSandbox(box);
  }
}

describe("differential: sarge's unpack against GNU tar on generated and mutated archives", () => {
  it(`accepts only what GNU tar writes the same way, refuses the rest clearly (seed ${SEED}, ${CASES} cases)`, async () => {
    const next = random(SEED);
    const failures: string[] = [];
    let accepted = 0;
    for (let i = 0; i < CASES; i++) {
      const tar = generateTar(next);
      const { accepted: ok, problems } = await check(tar, next);
      if (ok) accepted += 1;
      if (problems.length > 0) {
        failures.push(`seed ${SEED} case ${i} (mutation: ${tar.mutation}) entries ${JSON.stringify(tar.entries)}:\n  ${problems.join("\n  ")}`);
      }
    }
    expect(failures.slice(0, 10).join("\n\n")).toBe("");
    expect(accepted, "so few archives accepted that the comparison says little").toBeGreaterThan(CASES / 5);
  });
});

/** Helpers for the archive tests: tars built entry by entry (hostile ones included) and a sandboxed unpack. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, expect } from "vitest";
export { buildTar, extendedHeader, paxGlobalHeader, paxRecords, rawHeader, type TarEntry } from "../../support/tars.js";
import { ArchiveError, unpackArchive, type UnpackOptions, type UnpackResult } from "../../../src/archive/unpack.js";

export const CAPS = { maxBytes: 1024 ** 3, maxEntries: 100_000, maxNameLength: 1024 } as const;

export interface Sandbox {
  /** Parent of dest: nothing but dest may ever appear in it. */
  root: string;
  /** The (empty) deploy folder. */
  dest: string;
}

export function sandbox(): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "sarge-archive-test-"));
  const dest = join(root, "deploy");
  mkdirSync(dest);
  return { root, dest };
}

export function removeSandbox(box: Sandbox): void {
  rmSync(box.root, { recursive: true, force: true });
}

/** A fresh sandbox for each test, handed to `use`; after each, the real guarantee: nothing but the deploy folder appeared beside it. */
export function sandboxPerTest(use: (box: Sandbox) => void): void {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox();
    use(box);
  });
  afterEach(() => {
    expect(onlyDestIn(box)).toEqual(["deploy"]);
    removeSandbox(box);
  });
}

/** Feed bytes in uneven chunks, so headers and data straddle chunk boundaries. */
export function chunked(bytes: Buffer, size = 777): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) pieces.push(bytes.subarray(offset, offset + size));
  return Readable.from(pieces);
}

export async function unpackBytes(bytes: Buffer, box: Sandbox, options: Partial<UnpackOptions> = {}): Promise<UnpackResult> {
  return unpackArchive(chunked(bytes), box.dest, { ...CAPS, ...options });
}

/** The ArchiveError an unpack of `bytes` fails with (fails the test when it succeeds or throws something else). */
export async function refusal(bytes: Buffer, box: Sandbox, options: Partial<UnpackOptions> = {}): Promise<ArchiveError> {
  return refusalOf(unpackBytes(bytes, box, options));
}

export async function refusalOf(promise: Promise<unknown>): Promise<ArchiveError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw new Error(`expected an ArchiveError, got ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error(`expected a refusal, but unpacking succeeded: ${JSON.stringify(result)}`);
}

/** Every path under `dir`, relative, sorted; folders end with "/". */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      out.push(relative(dir, path) + (entry.isDirectory() ? "/" : ""));
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** Nothing outside dest: the sandbox holds dest and nothing else. */
export function onlyDestIn(box: Sandbox): string[] {
  return readdirSync(box.root);
}

export function gzip(bytes: Buffer): Buffer {
  return gzipSync(bytes);
}

/** The bits the process umask takes away from new files. */
export function currentUmask(dir: string): number {
  const probe = join(dir, ".umask-probe");
  writeFileSync(probe, "", { mode: 0o777 });
  const mode = statSync(probe).mode & 0o777;
  rmSync(probe);
  return 0o777 & ~mode;
}

/** A stream that delivers `bytes` and then stays open forever (like an ssh stdin whose sender stalls). */
export function neverEnding(bytes: Buffer): PassThrough {
  const stream = new PassThrough();
  stream.write(bytes);
  return stream;
}

/** Helpers for the archive tests: tars built entry by entry (hostile ones included) and a sandboxed unpack. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { ArchiveError, unpackArchive, type UnpackOptions, type UnpackResult } from "../../src/deploy/archive.js";

export interface TarEntry {
  name: string;
  type?: "file" | "link" | "symlink" | "directory" | "character-device" | "block-device" | "fifo";
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
}

export const CAPS = { maxBytes: 1024 ** 3, maxEntries: 100_000, maxNameLength: 1024 } as const;

/** A tar written by tar-stream's packer, entry by entry, ending with the end-of-archive blocks. */
export async function buildTar(entries: TarEntry[], options: { globalHeader?: string } = {}): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise((resolve) => archive.on("end", resolve));
  for (const { content, ...header } of entries) {
    const hasData = header.type === undefined || header.type === "file";
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (hasData) archive.entry({ mode: 0o644, ...header }, content ?? "", done);
      else archive.entry({ mode: header.type === "directory" ? 0o755 : 0o644, ...header }, done);
    });
  }
  archive.finalize();
  await finished;
  const body = Buffer.concat(chunks);
  return options.globalHeader === undefined ? body : Buffer.concat([paxGlobalHeader(options.globalHeader), body]);
}

/** A pax global header ('g') holding one `comment` record, as `git archive` writes it first. */
export function paxGlobalHeader(comment: string): Buffer {
  const line = (length: number): string => `${length} comment=${comment}\n`;
  let length = line(0).length;
  while (line(length).length !== length) length = line(length).length;
  const payload = Buffer.from(line(length));
  const header = rawHeader({ name: "pax_global_header", size: payload.length, typeflag: "g" });
  const padded = Buffer.alloc(Math.ceil(payload.length / 512) * 512);
  payload.copy(padded);
  return Buffer.concat([header, padded]);
}

/** One ustar header block with a correct checksum. */
export function rawHeader(options: { name: string; size: number; typeflag: string; mode?: number }): Buffer {
  const block = Buffer.alloc(512);
  block.write(options.name, 0, 100, "utf8");
  block.write((options.mode ?? 0o644).toString(8).padStart(7, "0") + "\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(options.size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write(options.typeflag, 156, "latin1");
  block.write("ustar\0" + "00", 257, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return block;
}

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

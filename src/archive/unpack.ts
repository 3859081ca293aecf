import { readdir, realpath, stat, statfs } from "node:fs/promises";
import { Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ArchiveError, quoteName } from "./error.js";
import { EntryPolicy } from "./entry-policy.js";
import { describeSource, isGzip, peek, toReadable } from "./input.js";
import { TarReader, type TarHandler, type TarHeader } from "./tar-reader.js";
import { EntryWriteError, TreeWriter } from "./writer.js";

export { ArchiveError } from "./error.js";

/**
 * Step 0 of a deploy (docs/architecture.md): unpack a plain or gzip tar from
 * a stream into the (new, empty) instance folder, refusing anything that would
 * land outside it, and return the commit id `git archive` wrote into it.
 *
 * Streaming: the archive is read chunk by chunk (gunzip, then tar-reader.ts);
 * each chunk is parsed, every entry in it decided by the policy
 * (entry-policy.ts) and written (writer.ts) before the next is read, so
 * memory stays flat whatever the archive size. The byte-level checks (empty,
 * not a tar) are in input.ts; the format's (headers, end-of-archive marker,
 * commit id) in tar-reader.ts.
 */

export interface UnpackOptions {
  /** Cap on the sum of regular-file sizes (archive.max_bytes). */
  maxBytes: number;
  /** Cap on the number of entries (archive.max_entries). */
  maxEntries: number;
  /** Cap on an entry name's or link target's length in bytes (archive.max_name_length). */
  maxNameLength: number;
  /** Called at most every 100 ms while unpacking, and once at the end with the totals. */
  onProgress?(bytes: number, entries: number): void;
  /** Refuse to start when the destination's file system has less free space than this. Default 64 MiB. */
  minFreeBytes?: number;
}

export interface UnpackResult {
  /** Commit id from the pax global header `git archive` writes; null when absent. */
  commit: string | null;
  /** Entries unpacked: files, folders and links. */
  entries: number;
  /** Bytes of regular-file data written. */
  bytes: number;
}

export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
const MIN_FREE_INODES = 1000;
const STREAM_HIGH_WATER = 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;

export async function unpackArchive(
  input: NodeJS.ReadableStream | Readable,
  dest: string,
  options: UnpackOptions,
): Promise<UnpackResult> {
  const source = toReadable(input);
  const sourceName = describeSource(input);
  let root: string;
  let peeked: Awaited<ReturnType<typeof peek>>;
  try {
    checkCaps(options);
    root = await prepareDestination(dest, options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
    peeked = await peek(source, 2).catch((error: unknown) => {
      throw new ArchiveError(`reading the archive from ${sourceName} failed: ${(error as Error).message}`, { cause: error });
    });
  } catch (error) {
    source.destroy();
    throw error;
  }

  const gzip = isGzip(peeked.head);
  const policy = new EntryPolicy(options);
  const writer = new TreeWriter(root);
  const reader = new TarReader(new EntryWriter(policy, writer), gzip, sourceName);
  const progress = new Progress(options.onProgress);
  const sink = new Writable({
    highWaterMark: STREAM_HIGH_WATER,
    write(chunk: Buffer, _encoding, callback) {
      try {
        reader.push(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      progress.update(policy.bytes, policy.entries);
      callback();
    },
    final(callback) {
      try {
        reader.finish();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [peeked.stream];
  if (gzip) stages.push(createGunzip({ chunkSize: 256 * 1024 }));
  stages.push(sink);
  try {
    await (pipeline as (...streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream>) => Promise<void>)(...stages);
  } catch (error) {
    source.destroy();
    throw translate(error, reader.lastName, sourceName, dest);
  } finally {
    writer.close(); // nothing is written into dest after this
  }
  policy.verifyLinks();
  progress.finish(policy.bytes, policy.entries);
  return { commit: reader.commit, entries: policy.entries, bytes: policy.bytes };
}

/** Each entry as the policy admits it, made by the writer; a file's data goes straight from the input chunks into it. */
class EntryWriter implements TarHandler {
  private file = false;
  private mtime = Number.NaN;

  constructor(
    private readonly policy: EntryPolicy,
    private readonly writer: TreeWriter,
  ) {}

  entry(header: TarHeader): void {
    const plan = this.policy.admit(header);
    const { name, path } = plan;
    const writer = this.writer;
    for (const parent of plan.parents) writer.mkdir(parent, 0o755, name);
    if (plan.replace) writer.unlink(path, name);
    switch (plan.kind) {
      case "none":
        return;
      case "dir":
        if (plan.chmod) writer.chmod(path, plan.mode, name);
        else writer.mkdir(path, plan.mode, name);
        return;
      case "symlink":
        writer.symlink(plan.target, path, name);
        return; // a link's data, if any, is read and dropped
      case "hardlink":
        writer.link(plan.target, path, name);
        return;
      case "file":
        writer.openFile(path, plan.mode, name);
        this.file = true;
        this.mtime = header.mtime;
        return;
    }
  }

  data(chunk: Buffer): void {
    if (this.file) this.writer.write(chunk);
  }

  end(): void {
    if (!this.file) return;
    this.file = false;
    this.writer.closeFile(this.mtime);
  }
}

function checkCaps(options: UnpackOptions): void {
  for (const key of ["maxBytes", "maxEntries", "maxNameLength"] as const) {
    const value = options[key];
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`unpackArchive: ${key} must be a non-negative number, got ${value}`);
  }
}

async function prepareDestination(dest: string, minFreeBytes: number): Promise<string> {
  let root: string;
  try {
    root = await realpath(dest);
    if (!(await stat(root)).isDirectory()) throw new ArchiveError(`cannot unpack into ${dest}: it is not a folder`);
    if ((await readdir(root)).length > 0) throw new ArchiveError(`cannot unpack into ${dest}: the folder is not empty`);
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(`cannot unpack into ${dest}: ${(error as Error).message}`, { cause: error });
  }
  const space = await statfs(root);
  const free = space.bavail * space.bsize;
  if (free < minFreeBytes) {
    throw new ArchiveError(
      `not enough free disk space to unpack: ${formatMiB(free)} free on the file system holding ${dest}, at least ${formatMiB(minFreeBytes)} needed`,
    );
  }
  if (space.files > 0 && space.ffree < MIN_FREE_INODES) {
    throw new ArchiveError(`not enough free inodes to unpack: ${space.ffree} left on the file system holding ${dest}`);
  }
  return root;
}

class Progress {
  private last = 0;
  constructor(private readonly report: ((bytes: number, entries: number) => void) | undefined) {}

  update(bytes: number, entries: number): void {
    if (!this.report) return;
    const now = Date.now();
    if (now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    this.report(bytes, entries);
  }

  finish(bytes: number, entries: number): void {
    this.report?.(bytes, entries);
  }
}

/** Any failure as an ArchiveError with one clear sentence. */
function translate(error: unknown, lastName: string | null, sourceName: string, dest: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const entryName = error instanceof EntryWriteError ? error.entryName : (lastName ?? undefined);
  const original = error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = (error as Error | null)?.message ?? String(error);
  const entryPart = entryName === undefined ? "" : ` entry ${quoteName(entryName)}`;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new ArchiveError(
      `no space left on the file system holding ${dest}${entryName === undefined ? "" : ` while writing entry ${quoteName(entryName)}`}${code === "EDQUOT" ? " (disk quota exceeded)" : ""}`,
      { cause: original },
    );
  }
  if (code === "Z_BUF_ERROR" || message === "unexpected end of file") {
    return new ArchiveError(`archive is truncated: the gzip data ends early${entryName ? `, inside or after${entryPart}` : ""}`, { cause: original });
  }
  if (typeof code === "string" && code.startsWith("Z_")) {
    return new ArchiveError(`archive is corrupt: the gzip data cannot be decompressed (${message})`, { cause: original });
  }
  if (error instanceof EntryWriteError) {
    return new ArchiveError(`unpacking entry ${quoteName(error.entryName)} failed: ${message}`, { cause: original });
  }
  if (code !== undefined && !code.startsWith("ERR_")) {
    return new ArchiveError(`reading the archive from ${sourceName} failed: ${message}`, { cause: original });
  }
  return new ArchiveError(`unpacking the archive failed${lastName === null ? "" : ` at entry ${quoteName(lastName)}`}: ${message}`, {
    cause: original,
  });
}

function formatMiB(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`;
}

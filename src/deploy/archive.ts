import fs from "node:fs";
import { readdir, realpath, stat, statfs } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import type { Header } from "tar-stream";
import { ArchiveError, quoteName } from "./archive-error.js";
import { EntryPolicy, type Plan } from "./archive-entry-policy.js";
import { TarTap, describeSource, isGzip, peek, toReadable } from "./archive-input.js";

export { ArchiveError } from "./archive-error.js";

/**
 * SPEC "One deployment, step by step", step 2: unpack a plain or gzip tar from
 * a stream into the (new, empty) instance folder, refusing anything that would
 * land outside it, and return the commit id `git archive` wrote into it.
 *
 * Streaming: nothing but the current entry is held in memory, and only small
 * files are (up to SMALL_FILE bytes); their writes run concurrently with the
 * parsing of the next entries (bounded by MAX_IN_FLIGHT and IN_FLIGHT_BYTES)
 * so the thread pool works while the parser reads. Larger files stream
 * straight to disk.
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

/** One entry from tar-stream's extractor: a streamx Readable of the entry's data. */
type Entry = AsyncIterable<unknown> & { header: Header; destroy(error?: Error | null): void };

export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;
const MIN_FREE_INODES = 1000;
const SMALL_FILE = 1024 * 1024;
const MAX_IN_FLIGHT = 32;
const IN_FLIGHT_BYTES = 32 * 1024 * 1024;
const STREAM_HIGH_WATER = 1024 * 1024;
const PROGRESS_INTERVAL_MS = 100;
const CREATE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export async function unpackArchive(
  input: NodeJS.ReadableStream | Readable,
  dest: string,
  options: UnpackOptions,
): Promise<UnpackResult> {
  const source = toReadable(input);
  let root: string;
  try {
    checkCaps(options);
    root = await prepareDestination(dest, options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
  } catch (error) {
    source.destroy();
    throw error;
  }
  const sourceName = describeSource(input);

  let peeked: Awaited<ReturnType<typeof peek>>;
  try {
    peeked = await peek(source, 2);
  } catch (error) {
    source.destroy();
    throw new ArchiveError(`reading the archive from ${sourceName} failed: ${(error as Error).message}`, { cause: error });
  }
  const gzip = isGzip(peeked.head);
  const tap = new TarTap(gzip, sourceName);
  const extract = tar.extract({ highWaterMark: STREAM_HIGH_WATER });
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [peeked.stream];
  if (gzip) stages.push(createGunzip({ chunkSize: 256 * 1024 }));
  stages.push(tap, extract);
  let feedError: unknown = null;
  const feeding = (pipeline as (...streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream>) => Promise<void>)(
    ...stages,
  ).catch((error: unknown) => {
    feedError = error;
  });

  const policy = new EntryPolicy(options);
  const writes = new WriteQueue();
  const unpacker = new Unpacker(root, writes);
  const progress = new Progress(options.onProgress);
  let current: { name: string; complete: boolean } | null = null;
  let lastEnd = 0;
  let loopError: unknown = null;

  try {
    for await (const entry of extract as AsyncIterable<Entry>) {
      const header = entry.header;
      current = { name: header.name, complete: false };
      const plan = policy.admit(header);
      await unpacker.apply(plan, entry, header.mtime);
      current.complete = true;
      const dataStart = (header as { byteOffset?: unknown }).byteOffset;
      lastEnd =
        typeof dataStart === "number"
          ? dataStart + (header.type === "directory" ? 0 : roundUp(header.size ?? 0))
          : Number.NaN;
      if (writes.error) throw writes.error;
      progress.update(policy.bytes, policy.entries);
    }
  } catch (error) {
    loopError = error;
  }

  await writes.settle();
  if (loopError !== null) source.destroy();
  await feeding;

  const failure = pickFailure(loopError, feedError, writes.error);
  if (failure !== null) throw translate(failure, current, sourceName, dest);

  const end = Number.isNaN(lastEnd) ? "unknown" : tap.zeroBlockAt(lastEnd);
  if (end === false) {
    throw new ArchiveError(
      current
        ? `archive is truncated: it ends after entry ${quoteName(current.name)} without the end-of-archive marker`
        : "archive is truncated: it ends without the end-of-archive marker",
    );
  }
  policy.verifyLinks();
  progress.finish(policy.bytes, policy.entries);
  return { commit: tap.commit, entries: policy.entries, bytes: policy.bytes };
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

/** Writes to the deploy folder. Folders and links are made in order; file writes may be in flight (see WriteQueue). */
class Unpacker {
  constructor(
    private readonly root: string,
    private readonly writes: WriteQueue,
  ) {}

  async apply(plan: Plan, entry: Entry, mtime: Date | undefined): Promise<void> {
    for (const parent of plan.parents) await mkdir(this.abs(parent), 0o755);
    if (plan.kind !== "file") await drain(entry);
    if (plan.waitFor.length > 0) await Promise.all(plan.waitFor);
    if (this.writes.error) throw this.writes.error;
    const path = this.abs(plan.path);
    if (plan.replace) await unlink(path);
    const name = plan.name;
    switch (plan.kind) {
      case "none":
        return;
      case "dir":
        if (plan.chmod) await chmod(path, plan.mode);
        else await mkdir(path, plan.mode);
        return;
      case "symlink":
        await symlink(plan.target, path);
        return;
      case "hardlink":
        await link(this.abs(plan.target), path);
        return;
      case "file":
        if (plan.size <= SMALL_FILE) {
          const chunks = await collect(entry);
          const write = this.writes.add(plan.size, name, () => writeSmallFile(path, chunks, plan.mode, mtime));
          plan.setPending(write);
          await this.writes.room();
        } else {
          await writeLargeFile(path, entry, plan.mode, mtime).catch((error: unknown) => {
            throw withEntry(error, name);
          });
        }
        return;
    }
  }

  private abs(rel: string): string {
    return rel === "" ? this.root : `${this.root}/${rel}`;
  }
}

/** Bounded set of file writes in flight; the first failure is kept and stops the unpack. */
class WriteQueue {
  error: unknown = null;
  private readonly inFlight = new Set<Promise<void>>();
  private bytes = 0;

  add(size: number, name: string, task: () => Promise<void>): Promise<void> {
    this.bytes += size;
    const run = task()
      .catch((error: unknown) => {
        this.error ??= withEntry(error, name);
      })
      .finally(() => {
        this.bytes -= size;
        this.inFlight.delete(run);
      });
    this.inFlight.add(run);
    return run;
  }

  /** Wait until another write may start. */
  async room(): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT || (this.bytes > IN_FLIGHT_BYTES && this.inFlight.size > 0)) {
      await Promise.race(this.inFlight);
    }
  }

  /** Wait for every write to finish (success or not), so nothing touches the folder after unpackArchive returns. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}

/** An fs error while writing an entry, with the entry's name attached for the message. */
class EntryWriteError extends Error {
  constructor(
    readonly entryName: string,
    readonly original: unknown,
  ) {
    super((original as Error)?.message ?? String(original));
  }
}

function withEntry(error: unknown, name: string): unknown {
  return error instanceof ArchiveError || error instanceof EntryWriteError ? error : new EntryWriteError(name, error);
}

async function writeSmallFile(path: string, chunks: Buffer[], mode: number, mtime: Date | undefined): Promise<void> {
  const fd = await open(path, mode);
  try {
    if (chunks.length === 1) await writeAll(fd, chunks[0]!);
    else if (chunks.length > 1) await writeAll(fd, Buffer.concat(chunks));
    if (validDate(mtime)) await futimes(fd, mtime);
  } finally {
    await close(fd);
  }
}

async function writeLargeFile(path: string, entry: Entry, mode: number, mtime: Date | undefined): Promise<void> {
  const fd = await open(path, mode);
  try {
    const out = fs.createWriteStream("", { fd, autoClose: false, highWaterMark: STREAM_HIGH_WATER });
    await pipeline(entry as unknown as NodeJS.ReadableStream, out);
    if (validDate(mtime)) await futimes(fd, mtime);
  } finally {
    await close(fd);
  }
}

async function collect(entry: Entry): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return chunks;
}

/** Link and folder entries rarely carry data, but when they do it must be read for the parser to go on. */
async function drain(entry: Entry): Promise<void> {
  if ((entry.header.size ?? 0) === 0) return;
  for await (const chunk of entry) void chunk;
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

function pickFailure(loopError: unknown, feedError: unknown, writeError: unknown): unknown {
  if (loopError instanceof ArchiveError) return loopError;
  if (feedError instanceof ArchiveError) return feedError;
  if (writeError !== null) return writeError;
  if (loopError !== null) return loopError;
  if (feedError !== null && (feedError as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") return feedError;
  return null;
}

/** Any failure as an ArchiveError with one clear sentence. */
function translate(
  error: unknown,
  current: { name: string; complete: boolean } | null,
  sourceName: string,
  dest: string,
): ArchiveError {
  if (error instanceof ArchiveError) return error;
  const entryName = error instanceof EntryWriteError ? error.entryName : current?.name;
  const original = error instanceof EntryWriteError ? error.original : error;
  const code = (original as NodeJS.ErrnoException | null)?.code;
  const message = (original as Error | null)?.message ?? String(original);
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
  if (message === "Unexpected end of data") {
    return new ArchiveError(
      current && !current.complete
        ? `archive is truncated: it ends inside${entryPart}`
        : current
          ? `archive is truncated: it ends inside the header after entry ${quoteName(current.name)}`
          : "archive is truncated: it ends inside a header",
      { cause: original },
    );
  }
  if (message.startsWith("Invalid tar header") || message === "Invalid header" || message === "Header exceeds max size") {
    return new ArchiveError(
      `archive is corrupt: ${message === "Header exceeds max size" ? "an extended header is larger than 4 MiB" : "invalid tar header"}${current ? ` after entry ${quoteName(current.name)}` : ""}`,
      { cause: original },
    );
  }
  if (error instanceof EntryWriteError) {
    return new ArchiveError(`unpacking entry ${quoteName(error.entryName)} failed: ${message}`, { cause: original });
  }
  if (code !== undefined && !code.startsWith("ERR_")) {
    return new ArchiveError(`reading the archive from ${sourceName} failed: ${message}`, { cause: original });
  }
  return new ArchiveError(`unpacking the archive failed${current ? ` at entry ${quoteName(current.name)}` : ""}: ${message}`, {
    cause: original,
  });
}

// --- small promise wrappers over the callback fs API (lighter than FileHandle for thousands of small files)

function open(path: string, mode: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, CREATE_FLAGS, mode, (error, fd) => (error ? reject(error) : resolve(fd))));
}

function close(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));
}

async function writeAll(fd: number, buffer: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    offset += await new Promise<number>((resolve, reject) =>
      fs.write(fd, buffer, offset, buffer.length - offset, null, (error, written) => (error ? reject(error) : resolve(written))),
    );
  }
}

function futimes(fd: number, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => fs.futimes(fd, mtime, mtime, (error) => (error ? reject(error) : resolve())));
}

function mkdir(path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => fs.mkdir(path, { mode }, (error) => (error ? reject(error) : resolve())));
}

function chmod(path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => fs.chmod(path, mode, (error) => (error ? reject(error) : resolve())));
}

function unlink(path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.unlink(path, (error) => (error ? reject(error) : resolve())));
}

function symlink(target: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.symlink(target, path, (error) => (error ? reject(error) : resolve())));
}

function link(existing: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.link(existing, path, (error) => (error ? reject(error) : resolve())));
}

function validDate(date: Date | undefined): date is Date {
  return date instanceof Date && !Number.isNaN(date.getTime());
}

function roundUp(size: number): number {
  return Math.ceil(size / 512) * 512;
}

function formatMiB(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`;
}

import { readdir, realpath, stat, statfs } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tar from "tar-stream";
import type { Header } from "tar-stream";
import { ArchiveError, quoteName } from "./error.js";
import { EntryPolicy } from "./entry-policy.js";
import { TarTap, describeSource, isGzip, peek, toReadable } from "./input.js";
import { EntryWriteError, TreeWriter, type FileSink } from "./writer.js";

export { ArchiveError } from "./error.js";

/**
 * Step 0 of a deploy (docs/architecture.md): unpack a plain or gzip tar from
 * a stream into the (new, empty) instance folder, refusing anything that would
 * land outside it, and return the commit id `git archive` wrote into it.
 *
 * Streaming: the archive is read chunk by chunk (gunzip, then tar-stream's
 * parser); the file system work goes, in archive order, to one writer thread
 * (archive-writer.ts) with at most a few MiB queued, so memory stays flat
 * whatever the archive size. Policy (what may be unpacked, and where) is in
 * archive-entry-policy.ts; the byte-level checks (empty, not a tar, commit id,
 * end-of-archive marker) in archive-input.ts.
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

/** One entry's data from tar-stream's extractor (a streamx Readable). */
interface Entry {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end" | "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
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
  let writer: TreeWriter;
  try {
    checkCaps(options);
    root = await prepareDestination(dest, options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES);
    peeked = await peek(source, 2).catch((error: unknown) => {
      throw new ArchiveError(`reading the archive from ${sourceName} failed: ${(error as Error).message}`, { cause: error });
    });
    try {
      writer = new TreeWriter(root);
    } catch (error) {
      throw new ArchiveError(`cannot start the thread that writes the archive: ${(error as Error).message}`, { cause: error });
    }
  } catch (error) {
    source.destroy();
    throw error;
  }

  const gzip = isGzip(peeked.head);
  const tap = new TarTap(gzip, sourceName);
  const extract = tar.extract({ highWaterMark: STREAM_HIGH_WATER });
  const stages: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [peeked.stream];
  if (gzip) stages.push(createGunzip({ chunkSize: 256 * 1024 }));
  stages.push(tap, extract as unknown as NodeJS.WritableStream);

  const policy = new EntryPolicy(options);
  const progress = new Progress(options.onProgress);
  let current: Current | null = null;
  let lastEnd = 0;
  let failure: unknown = null;
  let feedError: unknown = null;
  try {
    const fail = (error: unknown): void => {
      if (failure === null) failure = error;
      extract.destroy();
    };
    writer.onError = fail;

    extract.on("entry", (header, source, next) => {
      // Callbacks rather than promises here: this runs once per entry, tens of thousands of times.
      const entry: Current = { name: header.name, complete: false };
      current = entry;
      const done = (): void => {
        entry.complete = true;
        const dataStart = (header as { byteOffset?: unknown }).byteOffset;
        lastEnd =
          typeof dataStart === "number" ? dataStart + (header.type === "directory" ? 0 : roundUp(header.size ?? 0)) : Number.NaN;
        writer.entryDone();
        progress.update(policy.bytes, policy.entries);
        if (writer.congested) void writer.room().then(() => next());
        else next();
      };
      try {
        const data = queueEntry(policy, writer, header);
        if (data === null) done();
        else readEntry(source as unknown as Entry, data, writer, done, fail);
      } catch (error) {
        fail(error);
      }
    });

    await (pipeline as (...streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream>) => Promise<void>)(...stages).catch(
      (error: unknown) => {
        feedError = error;
      },
    );
    if (failure === null && feedError === null) await writer.finish();
  } catch (error) {
    failure ??= error;
  } finally {
    await writer.close(); // nothing is written into dest after this
  }

  const problem = pickFailure(failure, feedError);
  if (problem !== null) {
    source.destroy();
    throw translate(problem, current, sourceName, dest);
  }
  // Without entries there is no "after the last entry" to look at (an empty tar, or git's global header alone).
  const end = current === null || Number.isNaN(lastEnd) ? "unknown" : tap.zeroBlockAt(lastEnd);
  if (end === false) {
    const last = current as Current | null;
    throw new ArchiveError(
      last
        ? `archive is truncated: it ends after entry ${quoteName(last.name)} without the end-of-archive marker`
        : "archive is truncated: it ends without the end-of-archive marker",
    );
  }
  policy.verifyLinks();
  progress.finish(policy.bytes, policy.entries);
  return { commit: tap.commit, entries: policy.entries, bytes: policy.bytes };
}

interface Current {
  name: string;
  /** All of the entry's data was read. */
  complete: boolean;
}

/**
 * Decide one entry and queue what it takes to make it. Returns where its data
 * goes (a file's sink, or "discard" for the rare link that carries data), or
 * null when there is no data to read.
 */
function queueEntry(policy: EntryPolicy, writer: TreeWriter, header: Header): FileSink | "discard" | null {
  const plan = policy.admit(header);
  const name = plan.name;
  for (const parent of plan.parents) writer.mkdir(parent, 0o755, name);
  if (plan.replace) writer.unlink(plan.path, name);
  switch (plan.kind) {
    case "none":
      return null; // tar-stream does not read folder data
    case "dir":
      if (plan.chmod) writer.chmod(plan.path, plan.mode, name);
      else writer.mkdir(plan.path, plan.mode, name);
      return null;
    case "symlink":
      writer.symlink(plan.target, plan.path, name);
      break;
    case "hardlink":
      writer.link(plan.target, plan.path, name);
      break;
    case "file": {
      const sink = writer.file(plan.path, plan.mode, header.mtime, plan.size, name);
      if (plan.size > 0) return sink;
      sink.end();
      return null;
    }
  }
  // Links rarely carry data, but when they do the parser waits for it to be read.
  return (header.size ?? 0) > 0 ? "discard" : null;
}

/** Read an entry's data into its sink, pausing while the writer is congested; then `done`, or `fail`. */
function readEntry(stream: Entry, sink: FileSink | "discard", writer: TreeWriter, done: () => void, fail: (error: unknown) => void): void {
  let ended = false;
  const resume = (): void => void stream.resume();
  stream.on("data", (chunk: Buffer) => {
    try {
      if (sink !== "discard" && !sink.write(chunk)) {
        stream.pause();
        void writer.room().then(resume);
      }
    } catch (error) {
      fail(error);
    }
  });
  stream.on("end", () => {
    ended = true;
    try {
      if (sink !== "discard") sink.end();
      done();
    } catch (error) {
      fail(error);
    }
  });
  stream.on("error", fail);
  stream.on("close", () => {
    if (!ended) fail(Object.assign(new Error("entry stream closed before its end"), { code: "ERR_STREAM_PREMATURE_CLOSE" }));
  });
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

/** The error to report: a refusal or write failure first, then what the streams reported (not the premature close a refusal causes). */
function pickFailure(failure: unknown, feedError: unknown): unknown {
  if (failure instanceof ArchiveError || failure instanceof EntryWriteError) return failure;
  if (feedError instanceof ArchiveError) return feedError;
  if (feedError !== null && (feedError as NodeJS.ErrnoException).code !== "ERR_STREAM_PREMATURE_CLOSE") return feedError;
  return failure ?? feedError;
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
    return new ArchiveError(
      error.entryName === undefined ? `unpacking failed: ${message}` : `unpacking entry ${quoteName(error.entryName)} failed: ${message}`,
      { cause: original },
    );
  }
  if (code !== undefined && !code.startsWith("ERR_")) {
    return new ArchiveError(`reading the archive from ${sourceName} failed: ${message}`, { cause: original });
  }
  return new ArchiveError(`unpacking the archive failed${current ? ` at entry ${quoteName(current.name)}` : ""}: ${message}`, {
    cause: original,
  });
}

function roundUp(size: number): number {
  return Math.ceil(size / 512) * 512;
}

function formatMiB(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MiB`;
}

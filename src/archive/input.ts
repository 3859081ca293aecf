import { Readable, Transform, type TransformCallback } from "node:stream";
import { ArchiveError } from "./error.js";

/**
 * The byte side of unpacking: where the archive comes from, whether it is
 * gzip, whether it is a tar at all, the commit id git wrote into it, and enough
 * of its tail to tell a complete archive from a cut-off one.
 */

const BLOCK = 512;
/** Largest pax global header payload read for the commit id (git writes 52 bytes). */
const MAX_GLOBAL_PAYLOAD = 64 * 1024;
/** Bytes of the stream's tail kept for the end-of-archive check. */
const TAIL_BYTES = 64 * 1024;

/** Accept the old-style streams the signature allows; Readables pass through untouched. */
export function toReadable(input: NodeJS.ReadableStream | Readable): Readable {
  return input instanceof Readable ? input : new Readable().wrap(input);
}

/** A short description of where the bytes come from, for "nothing was read from …". */
export function describeSource(input: NodeJS.ReadableStream | Readable): string {
  if (input === process.stdin) return "stdin";
  const path = (input as { path?: unknown }).path;
  if (typeof path === "string") return path;
  if (Buffer.isBuffer(path)) return path.toString();
  return "the input";
}

/**
 * Read at least `count` bytes (fewer only at the end of the stream) without
 * consuming them. Returns the bytes and a stream that yields the whole input
 * again (the same stream with the bytes unshifted, or a fresh one when the
 * input already ended).
 */
export async function peek(stream: Readable, count: number): Promise<{ head: Buffer; stream: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  let failure: Error | null = null;
  // Listen for errors the whole time: read() can destroy the stream, which emits 'error' a tick later.
  // On failure the listener stays, so that late event is not an uncaught exception.
  const onError = (error: Error): void => {
    failure ??= error;
  };
  stream.on("error", onError);
  while (length < count) {
    const chunk: unknown = stream.read();
    if (failure !== null || stream.errored) throw failure ?? stream.errored;
    if (chunk !== null) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      chunks.push(buffer);
      length += buffer.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) {
      ended = true;
      break;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off("readable", done);
        stream.off("end", done);
        stream.off("close", done);
        stream.off("error", done);
        resolve();
      };
      stream.on("readable", done);
      stream.on("end", done);
      stream.on("close", done);
      stream.on("error", done);
    });
  }
  if (failure !== null || stream.errored) throw failure ?? stream.errored;
  stream.off("error", onError);
  const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  if (ended) return { head, stream: Readable.from(head.length > 0 ? [head] : []) };
  if (head.length > 0) stream.unshift(head);
  return { head, stream };
}

export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Pass-through in front of the tar parser. It checks the first block is a tar
 * header (so "not a tar" gets its own message, not a parser error), reads the
 * commit id from a leading pax global header the way `git get-tar-commit-id`
 * does, counts the bytes and keeps the tail for `endsWithMarker`.
 */
export class TarTap extends Transform {
  /** Tar bytes seen (after gunzip). */
  total = 0;
  commit: string | null = null;
  private head: Buffer[] = [];
  private headLength = 0;
  private headDone = false;
  private tail: Buffer[] = [];
  private tailLength = 0;

  constructor(
    private readonly gzip: boolean,
    private readonly sourceName: string,
  ) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (!this.headDone) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      try {
        this.examineHead(false);
      } catch (error) {
        callback(error as Error);
        return;
      }
    }
    this.tail.push(chunk);
    this.tailLength += chunk.length;
    while (this.tail.length > 1 && this.tailLength - this.tail[0]!.length >= TAIL_BYTES) {
      this.tailLength -= this.tail.shift()!.length;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.headDone) this.examineHead(true);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /**
   * True when the 512 bytes at `offset` are present and all zero: the
   * end-of-archive marker right after the last entry. A tar cut off exactly
   * between two entries parses cleanly; this is how it is caught.
   */
  zeroBlockAt(offset: number): boolean | "unknown" {
    if (offset + BLOCK > this.total) return false;
    let start = this.total - this.tailLength;
    if (offset < start) return "unknown";
    for (const chunk of this.tail) {
      const end = start + chunk.length;
      const from = Math.max(offset, start);
      const to = Math.min(offset + BLOCK, end);
      for (let i = from; i < to; i++) if (chunk[i - start] !== 0) return false;
      start = end;
    }
    return true;
  }

  private examineHead(atEnd: boolean): void {
    const buffered = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head);
    this.head = [buffered];
    if (buffered.length < BLOCK) {
      if (!atEnd) return;
      this.headDone = true;
      if (buffered.length === 0) {
        throw new ArchiveError(
          this.gzip
            ? `archive is empty: the gzip data read from ${this.sourceName} holds no bytes`
            : `archive is empty: nothing was read from ${this.sourceName}`,
        );
      }
      if (hasTarMagic(buffered)) {
        throw new ArchiveError(`archive is truncated: only ${buffered.length} bytes, it ends inside the first tar header`);
      }
      throw new ArchiveError(notTarMessage(buffered, this.gzip, `only ${buffered.length} bytes, shorter than one tar header`));
    }
    const block = buffered.subarray(0, BLOCK);
    if (block.every((byte) => byte === 0)) {
      this.finishHead();
      return; // an empty tar (or one starting with an end marker): the parser decides
    }
    if (!checksumOk(block) || !hasTarMagic(block)) {
      this.headDone = true;
      throw new ArchiveError(notTarMessage(block, this.gzip, "the first 512 bytes are not a tar header"));
    }
    if (String.fromCharCode(block[156]!) !== "g") {
      this.finishHead();
      return;
    }
    const size = octal(block, 124, 12);
    if (size === null || size > MAX_GLOBAL_PAYLOAD) {
      this.finishHead();
      return;
    }
    if (buffered.length < BLOCK + size) {
      if (atEnd) this.finishHead(); // cut off inside the global header: the parser reports it
      return;
    }
    this.commit = commitFromPax(buffered.subarray(BLOCK, BLOCK + size));
    this.finishHead();
  }

  private finishHead(): void {
    this.headDone = true;
    this.head = [];
  }
}

function hasTarMagic(block: Buffer): boolean {
  return block.length >= 262 && block.toString("latin1", 257, 262) === "ustar";
}

function checksumOk(block: Buffer): boolean {
  const stored = octal(block, 148, 8);
  if (stored === null) return false;
  let sum = 8 * 0x20; // the checksum field counts as spaces
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
  return sum === stored;
}

function octal(block: Buffer, offset: number, length: number): number | null {
  const text = block
    .toString("latin1", offset, offset + length)
    .replace(/\0.*$/s, "")
    .trim();
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

/** The `comment` record of a pax header, when it is a git commit id (SHA-1 or SHA-256). */
export function commitFromPax(payload: Buffer): string | null {
  let rest = payload;
  while (rest.length > 0) {
    const space = rest.indexOf(0x20);
    if (space <= 0) return null;
    const length = Number(rest.toString("latin1", 0, space));
    if (!Number.isInteger(length) || length <= space + 1 || length > rest.length) return null;
    const record = rest.toString("utf8", space + 1, length - 1); // without the trailing newline
    const equals = record.indexOf("=");
    if (equals > 0 && record.slice(0, equals) === "comment") {
      const value = record.slice(equals + 1);
      return /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(value) ? value : null;
    }
    rest = rest.subarray(length);
  }
  return null;
}

const FORMATS: Array<[number[], string]> = [
  [[0x50, 0x4b, 0x03, 0x04], "a zip file"],
  [[0x42, 0x5a, 0x68], "bzip2-compressed"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz-compressed"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd-compressed"],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], "a 7-zip file"],
  [[0x1f, 0x8b], "gzip-compressed twice"],
];

function notTarMessage(bytes: Buffer, gzip: boolean, why: string): string {
  const what = gzip ? "the gzip data is not a tar archive" : "input is not a tar archive";
  for (const [magic, name] of FORMATS) {
    if (bytes.length >= magic.length && magic.every((byte, i) => bytes[i] === byte)) {
      return `${what}: it is ${name}; sarge reads a plain or gzip-compressed tar (git archive HEAD, or tar -cz)`;
    }
  }
  const sample = bytes.subarray(0, 512).toString("utf8");
  if (!sample.includes("\uFFFD") && /^[\t\n\r\x20-\x7e\u00a0-\uffff]+$/.test(sample)) {
    const firstLine = sample.split(/\r?\n/)[0]!.slice(0, 60);
    return `${what}: ${why}; it looks like text, starting with ${JSON.stringify(firstLine)}`;
  }
  return `${what}: ${why}`;
}

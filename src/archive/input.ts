import { Readable } from "node:stream";
import { ArchiveError } from "./error.js";

/**
 * The byte side of unpacking: where the archive comes from, whether it is
 * gzip, whether it is a tar at all, and the commit id git wrote into it.
 */

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

/** The whole input is shorter than one tar header: say whether it is empty, cut off, or not a tar. */
export function refuseShortInput(bytes: Buffer, gzip: boolean, sourceName: string): never {
  if (bytes.length === 0) {
    throw new ArchiveError(
      gzip ? `archive is empty: the gzip data read from ${sourceName} holds no bytes` : `archive is empty: nothing was read from ${sourceName}`,
    );
  }
  if (hasTarMagic(bytes)) {
    throw new ArchiveError(`archive is truncated: only ${bytes.length} bytes, it ends inside the first tar header`);
  }
  throw new ArchiveError(notTarMessage(bytes, gzip, `only ${bytes.length} bytes, shorter than one tar header`));
}

/** "ustar" where a tar header has its magic (the first header must have it, whatever follows). */
export function hasTarMagic(block: Buffer): boolean {
  return block.length >= 262 && block.toString("latin1", 257, 262) === "ustar";
}

/** The `comment` record of git's pax global header, when it is a commit id (SHA-1 or SHA-256). */
export function gitCommit(comment: string | undefined): string | null {
  return comment !== undefined && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(comment) ? comment : null;
}

const FORMATS: Array<[number[], string]> = [
  [[0x50, 0x4b, 0x03, 0x04], "a zip file"],
  [[0x42, 0x5a, 0x68], "bzip2-compressed"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz-compressed"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd-compressed"],
  [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], "a 7-zip file"],
  [[0x1f, 0x8b], "gzip-compressed twice"],
];

/** "not a tar archive", naming the format when it is a known one, or quoting it when it is text. */
export function notTarMessage(bytes: Buffer, gzip: boolean, why: string): string {
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

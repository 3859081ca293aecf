import { join } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { HomePaths } from "../home/paths.js";
import { HttpError } from "./http-error.js";
import { followLog } from "./log-follower.js";
import { fileSize, readRange } from "../util/file-bytes.js";

/**
 * A growing log file served two ways (docs/server.md, "Logs"): `?offset=N`
 * pages of JSON, or a Server-Sent Events stream whose event ids are byte
 * offsets, so a client that reconnects with Last-Event-ID gets every byte
 * once. The release log routes, the queue and the dashboard all use this.
 */
export interface LogSource {
  /** The file's current path; null while there is none yet (a release still queued). */
  file(): string | null;
  /**
   * Once the writer is done, what the final `end` event carries (a
   * release's outcome); null while it goes on. Without it the stream never
   * ends by itself (an instance's log).
   */
  finished?(): unknown;
  /** A file whose change may bring the outcome (a release's: the history), watched so the end event goes out at once. */
  outcomeFile?: string;
}

export interface LogPage {
  /** The byte offset `text` starts at. */
  offset: number;
  /** The offset to ask for next. */
  next: number;
  /** The file's size now. */
  size: number;
  text: string;
}

export interface StreamTiming {
  pollMs: number;
  heartbeatMs: number;
}

/** At most this much per page or per event. */
const chunkBytes = 256 * 1024;

/** Where the server keeps the output of a release it runs (written by the queue, src/serve/queue.ts). */
export function releaseLogPath(paths: HomePaths, release: number): string {
  return join(paths.log, "releases", `${release}.log`);
}

/**
 * `?offset=` (a byte offset, default 0): a page of at most 256 KiB, cut after a whole UTF-8 character.
 * `size`: the file's size as its caller last looked (a follower reads up to its look, so streams
 * stay at one offset), else looked at now.
 */
export function readLogPage(file: string | null, offset: number, size = file === null ? 0 : fileSize(file)): LogPage {
  const from = offset > size ? 0 : offset;
  const bytes = file === null ? Buffer.alloc(0) : readRange(file, from, Math.min(size, from + chunkBytes));
  const whole = wholeCharacters(bytes);
  return { offset: from, next: from + whole.length, size, text: whole.toString("utf8") };
}

/**
 * A log route's answer: an SSE stream when the client accepts
 * text/event-stream, else the page at `?offset=` as JSON, with `end`: the
 * source's final outcome once it is finished and this page reaches the end
 * (null before; always null for a log that never ends).
 */
export function serveLog(request: FastifyRequest, reply: FastifyReply, source: LogSource, timing?: StreamTiming): (LogPage & { end: unknown }) | undefined {
  const offset = requestedOffset(request);
  if (wantsEventStream(request)) return void streamLog(reply, source, offset, timing);
  const outcome = source.finished?.() ?? null;
  const page = readLogPage(source.file(), offset);
  return { ...page, end: page.next >= page.size ? outcome : null };
}

/** The byte offset a request asks for: Last-Event-ID (a reconnecting SSE client) before `?offset=`. */
export function requestedOffset(request: FastifyRequest): number {
  const lastEventId = request.headers["last-event-id"];
  const raw = typeof lastEventId === "string" ? lastEventId : (request.query as { offset?: string }).offset;
  if (raw === undefined) return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new HttpError(400, `invalid offset "${raw}": expected a byte offset (a whole number, the "next" of the previous page)`);
  return Number(raw);
}

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? "").includes("text/event-stream");
}

const streamHead = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" };
const retryFrame = Buffer.from("retry: 1000\n\n");

/**
 * Stream `source` from `offset` as SSE until the client goes or the source
 * finishes: `log` events (id: the offset after them; data: the text as a
 * JSON string), a comment every `heartbeatMs`, then one `end` event.
 * A log that shrank (rotated) is read again from 0. Every stream of one file
 * shares one follower (src/serve/log-follower.ts), which reads and writes for
 * all of them.
 */
export function streamLog(reply: FastifyReply, source: LogSource, offset: number, timing: StreamTiming = { pollMs: 200, heartbeatMs: 15_000 }): void {
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, streamHead);
  out.write(retryFrame);
  followLog(source, out, offset, timing);
}

/** Drops a UTF-8 character cut at the end (its bytes come with the next read). */
function wholeCharacters(bytes: Buffer): Buffer {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}

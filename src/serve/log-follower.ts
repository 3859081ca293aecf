import { statSync, type FSWatcher } from "node:fs";
import type { ServerResponse } from "node:http";
import { tryWatch, watchInFolder } from "../util/watch-file.js";
import { readLogPage, type LogSource, type StreamTiming } from "./log-stream.js";

/** A `log` SSE event from `offset`: `frame` is null when there is nothing new. */
interface LogEvent {
  /** Where the text starts (0 again after the log shrank). */
  offset: number;
  next: number;
  frame: Buffer | null;
}

/** One SSE client of a followed file. */
interface Reader {
  out: ServerResponse;
  /** The offset of the next byte it gets. */
  position: number;
  lastWrite: number;
  /** Its socket is full: it gets more once it drained. */
  blocked: boolean;
}

interface Shared {
  source: LogSource;
  heartbeatMs: number;
  readers: Set<Reader>;
  stamp: string;
  /** The file's size at the latest look: readers read up to it, so they stay together at one offset. */
  size: number;
  outcome: unknown;
  /** The events read since the latest look, by offset, for every reader at the same offset until the file moves. */
  events: Map<number, LogEvent>;
  /** The end event, encoded once for every reader at the same offset. */
  end: { offset: number; outcome: unknown; frame: string } | null;
  timers: NodeJS.Timeout[];
  /** The look a write to the log asked for, not yet run. */
  soon: NodeJS.Timeout | null;
  watchers: FSWatcher[];
}

const following = new Map<string, Shared>();
const heartbeatFrame = Buffer.from(": heartbeat\n\n");
/** How long a write to the log waits for the ones that follow it (a deploy writes its lines in bursts): fewer, larger events to every stream. */
const coalesceMs = 20;

/**
 * Streams `out` the file of `source` from `offset` (src/serve/log-stream.ts
 * has the format) until the client goes or the source finishes. Every stream
 * of one file shares one follower: one stat (and one look at the outcome) per
 * `pollMs` while anyone follows, instead of one per stream (100 open streams
 * would otherwise read the file and the history 500 times a second while a
 * deploy writes it), and one at once when the file or the source's outcome
 * file changes (inotify), so neither a line nor the end event waits for the
 * next poll. The follower pushes to its readers: each new event is read and
 * encoded once for all readers at the same offset, and one heartbeat timer
 * serves them all, so a stream costs no timer, promise or read of its own.
 */
export function followLog(source: LogSource, out: ServerResponse, offset: number, timing: StreamTiming): void {
  // a client gone before its stream began would never say "close" again
  if (out.destroyed) return;
  // a source without a file yet follows alone: nothing names what it will be
  const key = source.file();
  const shared = (key === null ? undefined : following.get(key)) ?? startFollowing(source, timing);
  if (key !== null) following.set(key, shared);
  const reader: Reader = { out, position: offset, lastWrite: Date.now(), blocked: false };
  shared.readers.add(reader);
  out.once("close", () => leave(shared, key, reader));
  pump(shared, key, reader);
}

function startFollowing(source: LogSource, timing: StreamTiming): Shared {
  const shared: Shared = { source, heartbeatMs: timing.heartbeatMs, readers: new Set(), stamp: "", size: 0, outcome: null, events: new Map(), end: null, timers: [], soon: null, watchers: [] };
  // a silent stream gets its heartbeat within 1.2 heartbeat periods, from one timer for all
  shared.timers = [setInterval(() => look(shared), timing.pollMs), setInterval(() => heartbeats(shared), Math.max(1, timing.heartbeatMs / 5))];
  for (const timer of shared.timers) timer.unref();
  // a write to the log wakes the streams for its bytes; only the outcome file (or the poll) looks at the outcome, which may cost a history read
  const file = source.file();
  shared.watchers = [...(file ? watchChanges(file, () => lookSoon(shared)) : []), ...(source.outcomeFile ? watchChanges(source.outcomeFile, () => look(shared)) : [])];
  look(shared);
  return shared;
}

/** A watcher of `file`, or of its folder for it while it is not there yet (a queued release's log); none when neither can be watched: the poll still sees it. */
function watchChanges(file: string, changed: () => void): FSWatcher[] {
  const watcher = tryWatch(file, changed) ?? watchInFolder(file, changed);
  return watcher ? [watcher] : [];
}

/** A write usually comes with more within milliseconds: one look after the first, one event for all of them. */
function lookSoon(shared: Shared): void {
  shared.soon ??= setTimeout(() => {
    shared.soon = null;
    look(shared, false);
  }, coalesceMs);
}

/** The outcome first, then the file: a reader woken by an outcome has every byte written before it. */
function look(shared: Shared, withOutcome = true): void {
  const outcome = withOutcome ? (shared.source.finished?.() ?? null) : shared.outcome;
  const file = shared.source.file();
  const stat = file === null ? undefined : statSync(file, { throwIfNoEntry: false });
  const stamp = `${file}|${stat?.ino}|${stat?.size}|${stat?.mtimeMs}`;
  if (stamp === shared.stamp && (outcome === null) === (shared.outcome === null)) return;
  shared.stamp = stamp;
  shared.size = stat?.size ?? 0;
  shared.outcome = outcome;
  shared.events.clear();
  for (const reader of shared.readers) pump(shared, file, reader);
}

/** Writes `reader` every event it lacks, then the end event once the source finished; a full socket holds it until drained. */
function pump(shared: Shared, key: string | null, reader: Reader): void {
  while (!reader.blocked && shared.readers.has(reader)) {
    // the outcome is taken before the read: every byte written before it was recorded is sent first
    const outcome = shared.outcome;
    const event = eventAt(shared, reader.position);
    if (event.offset < reader.position) reader.position = event.offset;
    if (event.frame !== null) {
      reader.position = event.next;
      reader.lastWrite = Date.now();
      // a slow reader waits here instead of the text piling up in memory
      if (!reader.out.write(event.frame)) {
        reader.blocked = true;
        reader.out.once("drain", () => {
          reader.blocked = false;
          pump(shared, key, reader);
        });
      }
      continue;
    }
    if (outcome !== null) {
      reader.out.end(endFrame(shared, reader.position, outcome));
      leave(shared, key, reader);
    }
    return;
  }
}

function heartbeats(shared: Shared): void {
  const now = Date.now();
  for (const reader of shared.readers) {
    if (reader.blocked || now - reader.lastWrite < shared.heartbeatMs) continue;
    reader.lastWrite = now;
    reader.out.write(heartbeatFrame);
  }
}

/** The reader is done: the last one stops the follower. */
function leave(shared: Shared, key: string | null, reader: Reader): void {
  if (!shared.readers.delete(reader) || shared.readers.size > 0) return;
  for (const timer of shared.timers) clearInterval(timer);
  if (shared.soon) clearTimeout(shared.soon);
  for (const watcher of shared.watchers) watcher.close();
  if (key !== null && following.get(key) === shared) following.delete(key);
}

function eventAt(shared: Shared, offset: number): LogEvent {
  const known = shared.events.get(offset);
  if (known) return known;
  // past the latest look (an offset a page handed out since): the file's own size tells a log that grew from one that shrank
  const page = readLogPage(shared.source.file(), offset, offset > shared.size ? undefined : shared.size);
  const event = { offset: page.offset, next: page.next, frame: page.text === "" ? null : Buffer.from(`event: log\nid: ${page.next}\ndata: ${JSON.stringify(page.text)}\n\n`) };
  shared.events.set(offset, event);
  return event;
}

function endFrame(shared: Shared, offset: number, outcome: unknown): string {
  if (shared.end?.offset !== offset || shared.end.outcome !== outcome) shared.end = { offset, outcome, frame: `event: end\nid: ${offset}\ndata: ${JSON.stringify(outcome)}\n\n` };
  return shared.end.frame;
}

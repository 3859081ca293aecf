import { statSync, type FSWatcher } from "node:fs";
import { tryWatch, watchInFolder } from "../util/watch-file.js";
import { readLogPage, type LogSource } from "./log-stream.js";

/** A `log` SSE event from `offset`: `frame` is null when there is nothing new. */
export interface LogEvent {
  /** Where the text starts (0 again after the log shrank). */
  offset: number;
  next: number;
  frame: string | null;
}

export interface LogFollower {
  /** The source's outcome as of the latest look; null while it goes on. */
  outcome(): unknown;
  /** The event from `offset`, read once for every stream at the same offset until the file moves. */
  event(offset: number): LogEvent;
  /** Resolves when the file or the outcome moved, after `ms`, or on `signal`. */
  moved(ms: number, signal: AbortSignal): Promise<void>;
  /** This stream is done with it: the last one stops the look. */
  release(): void;
}

interface Shared {
  source: LogSource;
  users: number;
  stamp: string;
  outcome: unknown;
  last: { offset: number; event: LogEvent } | null;
  wake: Set<() => void>;
  timer: NodeJS.Timeout;
  watchers: FSWatcher[];
}

const following = new Map<string, Shared>();

/**
 * The follower of `source`'s file, shared by every stream of the same file:
 * one stat (and one look at the outcome) per `pollMs` while anyone follows,
 * instead of one per stream (100 open streams would otherwise read the file
 * and the history 500 times a second while a deploy writes it), and one at
 * once when the file or the source's outcome file changes (inotify), so
 * neither a line nor the end event waits for the next poll.
 */
export function followLog(source: LogSource, pollMs: number): LogFollower {
  // a source without a file yet follows alone: nothing names what it will be
  const key = source.file();
  const mine = (key === null ? undefined : following.get(key)) ?? startFollowing(source, pollMs);
  if (key !== null) following.set(key, mine);
  mine.users++;
  let released = false;
  return {
    outcome: () => mine.outcome,
    event: (offset) => {
      if (mine.last?.offset === offset) return mine.last.event;
      const event = eventAt(mine.source.file(), offset);
      mine.last = { offset, event };
      return event;
    },
    moved: (ms, signal) =>
      new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timeout);
          mine.wake.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timeout = setTimeout(done, Math.max(0, ms));
        mine.wake.add(done);
        signal.addEventListener("abort", done);
      }),
    release: () => {
      if (released) return;
      released = true;
      if (--mine.users > 0) return;
      clearInterval(mine.timer);
      for (const watcher of mine.watchers) watcher.close();
      if (key !== null && following.get(key) === mine) following.delete(key);
    },
  };
}

function startFollowing(source: LogSource, pollMs: number): Shared {
  const shared: Shared = { source, users: 0, stamp: "", outcome: null, last: null, wake: new Set(), timer: setInterval(() => look(shared), pollMs), watchers: [] };
  shared.timer.unref();
  // a write to the log wakes the streams for its bytes; only the outcome file (or the poll) looks at the outcome, which may cost a history read
  const file = source.file();
  shared.watchers = [...(file ? watchChanges(file, () => look(shared, false)) : []), ...(source.outcomeFile ? watchChanges(source.outcomeFile, () => look(shared)) : [])];
  look(shared);
  return shared;
}

/** A watcher of `file`, or of its folder for it while it is not there yet (a queued release's log); none when neither can be watched: the poll still sees it. */
function watchChanges(file: string, changed: () => void): FSWatcher[] {
  const watcher = tryWatch(file, changed) ?? watchInFolder(file, changed);
  return watcher ? [watcher] : [];
}

/** The outcome first, then the file: a stream woken by an outcome has every byte written before it. */
function look(shared: Shared, withOutcome = true): void {
  const outcome = withOutcome ? (shared.source.finished?.() ?? null) : shared.outcome;
  const file = shared.source.file();
  const stat = file === null ? undefined : statSync(file, { throwIfNoEntry: false });
  const stamp = `${file}|${stat?.ino}|${stat?.size}|${stat?.mtimeMs}`;
  if (stamp === shared.stamp && (outcome === null) === (shared.outcome === null)) return;
  shared.stamp = stamp;
  shared.outcome = outcome;
  shared.last = null;
  for (const wake of [...shared.wake]) wake();
}

function eventAt(file: string | null, offset: number): LogEvent {
  const page = readLogPage(file, offset);
  return { offset: page.offset, next: page.next, frame: page.text === "" ? null : `event: log\nid: ${page.next}\ndata: ${JSON.stringify(page.text)}\n\n` };
}

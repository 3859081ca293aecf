import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import type { HomePaths } from "../home/paths.js";
import { appendToFile } from "../util/append-file.js";
import { ConfigError } from "../util/errors.js";
import { currentUser } from "../util/current-user.js";

/** A stage is a deploy stopped before its switch; an activate is the switch of a staged (or kept) release. */
export type ReleaseKind = "deploy" | "rollback" | "config" | "stage" | "activate";

/** One line of var/history.jsonl. Config releases record key names only, never values. */
export interface HistoryEntry {
  release: number;
  kind: ReleaseKind;
  procs: string[];
  instances: string[];
  commit: string | null;
  user: string;
  /** The ssh client address ($SSH_CLIENT), when deployed over ssh. */
  from: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outcome: "success" | "failed" | "cancelled";
  error?: string;
  /** For rollbacks: the instances it went back to; for config: the keys changed; for activate: the release it activated. */
  detail?: string[];
  /** The push this release belongs to ($SARGE_PUSH_ID): the same on every server of a multi-server push. */
  push?: string;
}

/** A release under way, in state from its start until its history line is written: recovery writes the line of one that was killed. */
export type PendingRelease = Omit<HistoryEntry, "finishedAt" | "durationMs" | "outcome" | "error"> & {
  /** Set when the switch began: the release can no longer be cancelled. */
  switchingSince?: string;
};

export function pendingRelease(kind: ReleaseKind, release: number, procs: string[], instances: string[], started: Date, detail?: string[]): PendingRelease {
  const push = pushIdFromEnv();
  return { release, kind, procs, instances, commit: null, ...whoAmI(), startedAt: started.toISOString(), ...(detail ? { detail } : {}), ...(push ? { push } : {}) };
}

const PUSH_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** $SARGE_PUSH_ID, checked: it is written into history and shown by tools that read it. */
export function pushIdFromEnv(): string | undefined {
  const value = process.env.SARGE_PUSH_ID;
  if (value === undefined || value === "") return undefined;
  if (!PUSH_ID.test(value)) {
    throw new ConfigError(`SARGE_PUSH_ID ${JSON.stringify(value)} is not a push id: expected 1 to 64 letters, digits, dots, underscores or hyphens`);
  }
  return value;
}

export function finishedRelease({ switchingSince: _switching, ...pending }: PendingRelease, outcome: HistoryEntry["outcome"], error?: string): HistoryEntry {
  const finished = new Date();
  return { ...pending, finishedAt: finished.toISOString(), durationMs: finished.getTime() - Date.parse(pending.startedAt), outcome, ...(error ? { error } : {}) };
}

export function whoAmI(): { user: string; from: string | null } {
  return { user: currentUser(), from: process.env.SSH_CLIENT?.split(" ")[0] ?? null };
}

export function appendHistory(paths: HomePaths, entry: HistoryEntry): void {
  appendToFile(paths.history, JSON.stringify(entry) + "\n", 0o600);
}

/** Every entry, oldest first; a torn last line (a killed writer) is skipped. */
export function readHistory(paths: HomePaths): HistoryEntry[] {
  if (!existsSync(paths.history)) return [];
  return parseHistory(readFileSync(paths.history, "utf8"));
}

const tailChunkBytes = 16 * 1024;

/** The last `count` entries, oldest first, reading only the end of the file: the dashboard's home shows 20 of however many. */
export function readLatestHistory(paths: HomePaths, count: number): HistoryEntry[] {
  let fd: number;
  try {
    fd = openSync(paths.history, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  try {
    let start = fstatSync(fd).size;
    let tail = Buffer.alloc(0);
    // back from the end until the tail holds `count` whole lines (a newline before them) or the whole file
    while (start > 0 && newlines(tail) <= count) {
      const length = Math.min(tailChunkBytes, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, start);
      tail = Buffer.concat([chunk, tail]);
    }
    const text = tail.toString("utf8");
    // mid-file, the first line is a piece of one
    return parseHistory(start === 0 ? text : text.slice(text.indexOf("\n") + 1)).slice(-count);
  } finally {
    closeSync(fd);
  }
}

function newlines(buffer: Buffer): number {
  let count = 0;
  for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) count++;
  return count;
}

function parseHistory(text: string): HistoryEntry[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as HistoryEntry];
      } catch {
        return [];
      }
    });
}

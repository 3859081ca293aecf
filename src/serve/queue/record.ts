import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HomePaths } from "../../home/paths.js";
import type { Wanted } from "../webhook/mirror.js";
import { writeFileAtomic } from "../../util/atomic-file.js";

export type QueueState = "queued" | "running" | "succeeded" | "failed" | "cancelled" | "superseded";

export const finishedStates: readonly QueueState[] = ["succeeded", "failed", "cancelled", "superseded"];

/** One release the server was asked for, as GET /api/v1/queue shows it; `id` is its history release number. */
export interface QueueRecord {
  id: number;
  kind: "deploy";
  state: QueueState;
  procs: string[];
  who: string;
  /** Where it came from: the API, a webhook, or `sarge deploy` over ssh (shown, not run, by the server). */
  source: "api" | "webhook" | "cli";
  force: boolean;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** The newer request that replaced it while it waited. */
  supersededBy: number | null;
  /** The child `sarge deploy` while it runs: pid and start time, so a restarted server knows it. */
  pid: number | null;
  pidStart: string | null;
  /** A deploy by ref (a webhook push, `{"ref": …}`): fetched from webhook.repository when it runs; null for an uploaded archive. */
  ref: Wanted | null;
}

/** A record as it is asked for: waiting, not started; `fields` sets what differs (a CLI deploy shown as running, a test's). */
export function newRecord(fields: Pick<QueueRecord, "id" | "procs" | "who" | "source"> & Partial<QueueRecord>): QueueRecord {
  return {
    kind: "deploy",
    state: "queued",
    force: false,
    queuedAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    error: null,
    supersededBy: null,
    pid: null,
    pidStart: null,
    ref: null,
    ...fields,
  };
}

/** var/serve/queue/<id>.json, one file per record, written atomically. */
export function queueDir(paths: HomePaths): string {
  return join(paths.root, "var", "serve", "queue");
}

export function saveRecord(paths: HomePaths, record: QueueRecord): void {
  mkdirSync(queueDir(paths), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(queueDir(paths), `${record.id}.json`), JSON.stringify(record) + "\n", 0o600);
}

/** Every record, oldest first; a file that cannot be read is skipped. */
export function loadRecords(paths: HomePaths): QueueRecord[] {
  let names: string[];
  try {
    names = readdirSync(queueDir(paths)).filter((name) => /^\d+\.json$/.test(name));
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(join(queueDir(paths), name), "utf8")) as QueueRecord];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.id - b.id);
}

import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { SargeError } from "../../util/errors.js";
import type { ProgramSpec } from "../supervisor.js";
import { parseSpec } from "./protocol.js";

/** What the daemon remembers about a program across its own restarts. */
export interface ProgramRecord {
  spec: ProgramSpec;
  wanted: boolean;
  /** The current process (also its process group id), with its /proc start time. */
  pid: number | null;
  startTime: string | null;
  startedAt: string | null;
  restarts: number;
  lastExit: string | null;
}

interface StoreFile {
  version: 1;
  programs: ProgramRecord[];
}

/** No file yet means no programs. A damaged file is refused: forgetting programs would orphan them. */
export function loadRecords(file: string): ProgramRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  try {
    const stored = JSON.parse(text) as StoreFile;
    if (stored.version !== 1 || !Array.isArray(stored.programs)) throw new Error("not a version 1 program list");
    return stored.programs.map((record) => ({ ...record, spec: parseSpec(record.spec) }));
  } catch (error) {
    throw new SargeError(`cannot read the supervisor's program list ${file}`, {
      detail: `${(error as Error).message}\nIts programs may still be running; fix or move the file, then start the supervisor again.`,
      cause: error,
    });
  }
}

/** Atomic and durable: a daemon killed at any moment leaves the old or the new list, never half of one. */
export function saveRecords(file: string, records: ProgramRecord[]): void {
  const stored: StoreFile = { version: 1, programs: records };
  writeFileAtomic(file, JSON.stringify(stored, null, 2) + "\n", 0o600);
}

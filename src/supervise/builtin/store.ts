import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { SargeError } from "../../util/errors.js";
import type { ProgramSpec } from "../supervisor.js";
import { parseSpec } from "./protocol.js";

/** What the daemon remembers about a program across its own restarts. */
export interface ProgramRecord {
  spec: ProgramSpec;
  wanted: boolean;
  /** The current process (also its process group id), with its /proc start time and the boot it ran in. */
  pid: number | null;
  startTime: string | null;
  /** null in lists written before boot ids were recorded. */
  bootId: string | null;
  startedAt: string | null;
  restarts: number;
  lastExit: string | null;
}

interface StoreFile {
  version: 1;
  programs: ProgramRecord[];
}

/** The copy of the list written with it, for when the list itself is damaged or gone. */
export function backupOf(file: string): string {
  return `${file}.bak`;
}

/**
 * The program list. A damaged or missing list falls back to its copy
 * (`warn` says so): forgetting programs would orphan them. Neither file means
 * no programs; a damaged list without a usable copy is refused.
 */
export function loadRecords(file: string, warn?: (line: string) => void): ProgramRecord[] {
  const list = readList(file);
  if (list.records) return list.records;
  const copy = readList(backupOf(file));
  if (copy.records) {
    warn?.(`${file} ${list.problem ?? "is missing"}; using its copy ${backupOf(file)}`);
    return copy.records;
  }
  if (list.problem === null) return [];
  throw new SargeError(`cannot read the supervisor's program list ${file}`, {
    detail:
      `${list.problem}; its copy ${backupOf(file)} ${copy.problem ?? "is missing"}.\n` +
      "Its programs may still be running; fix the file, then start the supervisor again.",
  });
}

/** `problem` null with no records: the file does not exist. */
function readList(file: string): { records: ProgramRecord[] | null; problem: string | null } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { records: null, problem: null };
    return { records: null, problem: `cannot be read (${(error as Error).message})` };
  }
  try {
    const stored = JSON.parse(text) as StoreFile;
    if (stored.version !== 1 || !Array.isArray(stored.programs)) throw new Error("not a version 1 program list");
    return { records: stored.programs.map((record) => ({ ...record, spec: parseSpec(record.spec), bootId: record.bootId ?? null })), problem: null };
  } catch (error) {
    return { records: null, problem: `is damaged (${(error as Error).message})` };
  }
}

/**
 * Atomic and durable: a daemon killed at any moment leaves the old or the new
 * list, never half of one. The same list then goes to the copy, so the copy
 * is never behind what was last saved.
 */
export function saveRecords(file: string, records: ProgramRecord[]): void {
  const text = JSON.stringify({ version: 1, programs: records } satisfies StoreFile, null, 2) + "\n";
  writeFileAtomic(file, text, 0o600);
  writeFileAtomic(backupOf(file), text, 0o600);
}

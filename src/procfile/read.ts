import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseProcfile, type ProcfileEntry } from "./parse.js";

export function readProcfile(appDir: string): ProcfileEntry[] {
  let text: string;
  try {
    text = readFileSync(join(appDir, "Procfile"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error("the archive has no Procfile at its top level");
    throw new Error(`the Procfile cannot be read: ${(error as Error).message}`);
  }
  return parseProcfile(text);
}

/** The command of one process type; `release` is the release hook, never a process to keep running. */
export function commandFor(procfile: ProcfileEntry[], proc: string): string {
  const names = procfile.map((entry) => entry.name).filter((name) => name !== "release");
  const entry = proc === "release" ? undefined : procfile.find((candidate) => candidate.name === proc);
  if (entry) return entry.command;
  const known = names.length > 0 ? `the Procfile defines ${names.join(", ")}` : "the Procfile defines no process types";
  const hint = proc === "release" ? " (release is the release hook, run once per deploy)" : "";
  throw new Error(`unknown process type "${proc}": ${known}${hint}`);
}

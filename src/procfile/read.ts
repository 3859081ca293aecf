import { readFileSync } from "node:fs";
import { parseProcfile, ProcfileError, type ProcfileEntry } from "./parse.js";
import { pathJoin } from "./pyutil.js";

/** The Procfile entry that is a release hook (run once per deploy), never a process to keep running: Heroku's name. */
export const RELEASE_HOOK = "release";

/** Why a deployed app's Procfile cannot be read. */
function unreadableInArchive(error: NodeJS.ErrnoException): string {
  return error.code === "ENOENT" ? "the archive has no Procfile at its top level" : `the Procfile cannot be read: ${error.message}`;
}

/**
 * The Procfile `name` in `appDir` (joined as Python's os.path.join: an
 * absolute name stands alone), parsed. `unreadable` words the error when the
 * file cannot be read.
 */
export function readProcfile(
  appDir: string,
  name = "Procfile",
  unreadable: (error: NodeJS.ErrnoException) => string = unreadableInArchive,
): ProcfileEntry[] {
  let text: string;
  try {
    text = readFileSync(pathJoin(appDir, name), "utf8");
  } catch (error) {
    throw new ProcfileError(unreadable(error as NodeJS.ErrnoException), { cause: error });
  }
  return parseProcfile(text);
}

/** The command of one process type; `release` is the release hook, never a process to keep running. */
export function commandFor(procfile: ProcfileEntry[], proc: string): string {
  const names = procfile.map((entry) => entry.name).filter((name) => name !== RELEASE_HOOK);
  const entry = proc === RELEASE_HOOK ? undefined : procfile.find((candidate) => candidate.name === proc);
  if (entry) return entry.command;
  const known = names.length > 0 ? `the Procfile defines ${names.join(", ")}` : "the Procfile defines no process types";
  const hint = proc === RELEASE_HOOK ? " (release is the release hook, run once per deploy)" : "";
  throw new Error(`unknown process type "${proc}": ${known}${hint}`);
}

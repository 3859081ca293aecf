import { SargeError } from "../util/errors.js";
import { splitlines } from "../util/splitlines.js";

/** One `name: command` line of a Procfile, in file order. */
export interface ProcfileEntry {
  name: string;
  command: string;
}

/** A Procfile that parses but breaks a rule (duplicate names). */
export class ProcfileError extends SargeError {}

/** A process type name: what the Procfile grammar accepts before the colon. */
export const processTypePattern = /^[A-Za-z0-9_-]+$/;

/**
 * Python's `\s` on str patterns (Unicode whitespace). Characters that
 * `splitlines()` treats as line ends can never occur in a line, so they are
 * left out; U+001F is whitespace to Python but not to JavaScript, and U+FEFF
 * the other way round.
 */
const PY_SPACE = "[ \\t\\x1f\\xa0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000]";

/**
 * honcho's `re.match(r'^([A-Za-z0-9_-]+):\s*(.+)$', line)`. A line never holds
 * a line terminator (splitlines removed them), so `.` and `$` behave as in Python.
 * The greedy `\s*` backtracks, so a command of only blanks keeps its last blank.
 */
const LINE = new RegExp(`^([A-Za-z0-9_-]+):${PY_SPACE}*([^]+)$`);

/**
 * Parse a Procfile exactly as honcho 2.0 does (docs/local.md, "Procfile grammar"): lines are split
 * with Python splitlines semantics, lines that do not match the grammar are
 * silently ignored, the command is the rest of the line verbatim, and a
 * duplicate name is an error.
 */
export function parseProcfile(text: string): ProcfileEntry[] {
  const entries: ProcfileEntry[] = [];
  const seen = new Set<string>();
  for (const line of splitlines(text)) {
    const match = LINE.exec(line);
    if (!match) continue;
    const name = match[1]!;
    const command = match[2]!;
    if (seen.has(name)) throw new ProcfileError("process names must be unique within a Procfile");
    seen.add(name);
    entries.push({ name, command });
  }
  return entries;
}

import { mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { openForAppend } from "./append-file.js";

type LogMethod = {
  (text: string): void;
  (fields: Record<string, unknown>, text: string): void;
};

/** What sarge logs: `log.info(text)` or `log.info({ fields }, text)`. */
export interface SargeLog {
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/** pino's numbers for these levels: the file's lines read as they did when pino wrote them. */
const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * sarge's own structured log, var/log/sarge.log, JSON lines, mode 0600, in
 * pino's shape (level, time, pid, command, the fields, msg; an `err` field
 * as type, message and stack). Written synchronously: CLI processes are
 * short-lived and a deploy killed mid-step must still leave its last lines
 * behind. Written here rather than through pino, whose ~30 module files cost
 * a deploy ~40 ms of CPU at start-up for a few lines.
 */
export function openSargeLog(paths: HomePaths, command: string): SargeLog {
  let fd: number | undefined;
  const write = (level: keyof typeof LEVELS, first: string | Record<string, unknown>, text?: string) => {
    if (fd === undefined) {
      mkdirSync(dirname(paths.sargeLog), { recursive: true });
      fd = openForAppend(paths.sargeLog, 0o600);
    }
    const fields = typeof first === "string" ? {} : serializeFields(first);
    const msg = typeof first === "string" ? first : text;
    writeSync(fd, logLine({ level: LEVELS[level], time: new Date().toISOString(), pid: process.pid, command, ...fields, msg }));
  };
  return {
    info: (first: string | Record<string, unknown>, text?: string) => write("info", first, text),
    warn: (first: string | Record<string, unknown>, text?: string) => write("warn", first, text),
    error: (first: string | Record<string, unknown>, text?: string) => write("error", first, text),
  };
}

function serializeFields(fields: Record<string, unknown>): Record<string, unknown> {
  return "err" in fields && fields.err instanceof Error ? { ...fields, err: serializeError(fields.err) } : fields;
}

function serializeError(error: Error): Record<string, unknown> {
  return { type: error.constructor.name, message: error.message, stack: error.stack, ...Object.fromEntries(Object.entries(error)) };
}

/** One JSON line; a value JSON cannot hold (a cycle) is logged as its text rather than losing the line. */
function logLine(entry: Record<string, unknown>): string {
  try {
    return JSON.stringify(entry) + "\n";
  } catch {
    const plain = (value: unknown) => ((typeof value === "object" && value !== null) || typeof value === "bigint" ? String(value) : value);
    return JSON.stringify(Object.fromEntries(Object.entries(entry).map(([key, value]) => [key, plain(value)]))) + "\n";
  }
}

import { constants as osConstants } from "node:os";
import { processTypePattern } from "../procfile/parse.js";
import type { ConfigReader } from "./config.js";
import { duration } from "./config.js";
import type { ProcessSettings, StopTo } from "./config-types.js";
import { parseSize } from "./duration.js";

/** This module, whose source is part of the config cache's key (config.ts, cachedParse). */
export const processesParserFile = import.meta.url;

/** What a process type gets when `processes:` does not name it (docs/configuration.md, "Process types"). */
export const DEFAULT_PROCESS_SETTINGS: ProcessSettings = {
  stopSignal: "SIGTERM",
  stopTo: "main",
  graceMs: 30_000,
  overlap: "always",
  limits: { nofile: null, memoryBytes: null },
};

/** The kernel's own ceiling for RLIMIT_NOFILE (fs.nr_open's default). */
const maxNofile = 1_048_576;
/** Below this a Python interpreter cannot even start; a smaller value is a typo. */
const minMemoryBytes = 16 * 1024 ** 2;

/** The `processes:` map: per process type, how it stops, whether old and new overlap, its limits. */
export function readProcesses(read: ConfigReader, value: unknown): Record<string, ProcessSettings> {
  if (value === undefined || value === null) return {};
  const processes: Record<string, ProcessSettings> = {};
  for (const [proc, raw] of Object.entries(read.mapping(value, "processes"))) {
    const key = `processes.${proc}`;
    if (!processTypePattern.test(proc)) read.fail(key, "a process type name of letters, digits, _ and -", proc);
    const fallback = DEFAULT_PROCESS_SETTINGS;
    const settings = read.section<ProcessSettings>(raw, key, {
      stopSignal: ["stop_signal", (v, k) => stopSignal(read, v, k), fallback.stopSignal],
      stopTo: ["stop_to", (v, k) => oneOf<StopTo>(read, v, k, ["main", "group"]), fallback.stopTo],
      graceMs: ["grace", (v, k) => duration(read, v, k), fallback.graceMs],
      overlap: ["overlap", (v, k) => oneOf<ProcessSettings["overlap"]>(read, v, k, ["always", "never"]), fallback.overlap],
      limits: ["limits", (v, k) => limits(read, v, k), fallback.limits],
    });
    processes[proc] = settings;
  }
  return processes;
}

/** A process type's settings, the defaults where `processes:` does not name it. */
export function processSettings(processes: Record<string, ProcessSettings>, proc: string): ProcessSettings {
  return processes[proc] ?? DEFAULT_PROCESS_SETTINGS;
}

function limits(read: ConfigReader, value: unknown, key: string): ProcessSettings["limits"] {
  return read.section<ProcessSettings["limits"]>(value, key, {
    nofile: ["nofile", (v, k) => read.integer(v, k, 64, maxNofile), null],
    memoryBytes: ["memory", (v, k) => memory(read, v, k), null],
  });
}

function memory(read: ConfigReader, value: unknown, key: string): number {
  const bytes = parseSize(value);
  if (bytes === null || bytes < minMemoryBytes) read.fail(key, 'a size of at least 16MB, like "512MB" or "2GB"', value);
  return bytes;
}

/** TERM, SIGTERM, term: a signal a process can handle (not KILL or STOP). */
function stopSignal(read: ConfigReader, value: unknown, key: string): NodeJS.Signals {
  const expected = "a signal name like TERM, INT, QUIT or USR1 (with or without SIG)";
  if (typeof value !== "string") read.fail(key, expected, value);
  const upper = value.trim().toUpperCase();
  const name = (upper.startsWith("SIG") ? upper : `SIG${upper}`) as NodeJS.Signals;
  if (!(name in osConstants.signals) || name === "SIGKILL" || name === "SIGSTOP") read.fail(key, expected, value);
  return name;
}

function oneOf<T extends string>(read: ConfigReader, value: unknown, key: string, choices: readonly T[]): T {
  if (typeof value !== "string" || !choices.includes(value as T)) read.fail(key, choices.join(" or "), value);
  return value as T;
}

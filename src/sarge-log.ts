import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { destination as pinoDestination, pino, stdTimeFunctions, type Logger } from "pino";
import type { HomePaths } from "./home/paths.js";

export type SargeLog = Logger;

/**
 * sarge's own structured log, var/log/sarge.log, JSON lines. Written
 * synchronously: CLI processes are short-lived and a deploy killed mid-step
 * must still leave its last lines behind.
 */
export function openSargeLog(paths: HomePaths, command: string): SargeLog {
  mkdirSync(dirname(paths.sargeLog), { recursive: true });
  const destination = pinoDestination({ dest: paths.sargeLog, sync: true, append: true, mode: 0o600 });
  return pino({ base: { pid: process.pid, command }, timestamp: stdTimeFunctions.isoTime }, destination);
}

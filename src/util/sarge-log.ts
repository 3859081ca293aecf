import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { HomePaths } from "../home/paths.js";
import { openForAppend } from "./append-file.js";

/** The part of pino sarge uses: `log.info(text)` or `log.info({ fields }, text)`. */
export type SargeLog = Pick<Logger, "info" | "warn" | "error">;

const require = createRequire(import.meta.url);

/**
 * sarge's own structured log, var/log/sarge.log, JSON lines, mode 0600.
 * Written synchronously: CLI processes are short-lived and a deploy killed
 * mid-step must still leave its last lines behind. pino is loaded with the
 * first line, so commands that log nothing (sarge list) do not pay its ~50 ms
 * of start-up.
 */
export function openSargeLog(paths: HomePaths, command: string): SargeLog {
  let logger: Logger | undefined;
  const open = (): Logger => {
    if (logger) return logger;
    const { pino, destination, stdTimeFunctions } = require("pino") as typeof import("pino");
    mkdirSync(dirname(paths.sargeLog), { recursive: true });
    const file = destination({ dest: openForAppend(paths.sargeLog, 0o600), sync: true });
    logger = pino({ base: { pid: process.pid, command }, timestamp: stdTimeFunctions.isoTime }, file);
    return logger;
  };
  return {
    info: ((...args: Parameters<Logger["info"]>) => open().info(...args)) as Logger["info"],
    warn: ((...args: Parameters<Logger["warn"]>) => open().warn(...args)) as Logger["warn"],
    error: ((...args: Parameters<Logger["error"]>) => open().error(...args)) as Logger["error"],
  };
}

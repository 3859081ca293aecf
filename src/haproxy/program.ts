import type { HomePaths } from "../home/paths.js";
import { instanceLogPath } from "../home/paths.js";
import type { ProgramSpec } from "../supervise/supervisor.js";
import { shellQuote } from "../util/shell-quote.js";
import { resolveHaproxyBin } from "./binary.js";
import { assertSocketPath } from "./render.js";
import { HAPROXY_PROGRAM, HARD_STOP_AFTER_MS } from "./types.js";

/** Grace between SIGUSR1 (soft stop) and SIGKILL: longer than hard-stop-after. */
export const HAPROXY_STOP_TIMEOUT_MS = HARD_STOP_AFTER_MS + 5_000;

/**
 * HAProxy as a supervised program: master-worker in the foreground, reading
 * the generated config, with the master CLI socket (mode 600) used for
 * reloads. SIGUSR1 is its graceful stop; running requests get up to
 * hard-stop-after to finish.
 */
export function haproxyProgram(paths: HomePaths, haproxyBin: string): ProgramSpec {
  const bin = resolveHaproxyBin(haproxyBin, { baseDir: paths.root });
  assertSocketPath(paths.haproxyMasterSocket, "master socket");
  const args = ["-W", "-db", "-f", paths.haproxyCfg, "-p", paths.haproxyPid, "-S", `${paths.haproxyMasterSocket},mode,600`];
  return {
    name: HAPROXY_PROGRAM,
    command: ["exec", shellQuote(bin), ...args.map(shellQuote)].join(" "),
    cwd: paths.root,
    env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
    logFile: instanceLogPath(paths, HAPROXY_PROGRAM),
    stopSignal: "SIGUSR1",
    stopTimeoutMs: HAPROXY_STOP_TIMEOUT_MS,
  };
}

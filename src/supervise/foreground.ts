import { spawn } from "node:child_process";
import type { SupervisorKind } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { assertOtherBackendIdle } from "./backend-switch.js";
import { runDaemon } from "./builtin/daemon.js";
import { supervisordCommand, writeSupervisordConfig } from "./supervisord/index.js";

/**
 * What bin/supervisord runs: the builtin daemon in this process, or the real
 * supervisord (config regenerated first) as a child that gets our signals, so
 * systemd or a terminal controls either the same way. Resolves to the exit code.
 */
export async function runSupervisorForeground(paths: HomePaths, kind: SupervisorKind): Promise<number> {
  await assertOtherBackendIdle(paths, kind);
  if (kind === "builtin") {
    await runDaemon(paths);
    return 0;
  }
  await writeSupervisordConfig(paths);
  const [bin, ...args] = supervisordCommand(paths);
  const child = spawn(bin!, args, { stdio: "inherit" });
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1)));
  });
}

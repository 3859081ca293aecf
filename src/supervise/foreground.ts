import { spawn, type ChildProcess } from "node:child_process";
import type { SupervisorKind } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { assertOtherBackendIdle } from "./backend-switch.js";
import { runDaemon } from "./builtin/daemon.js";
import { supervisordCommand, writeSupervisordConfig } from "./supervisord/index.js";

/**
 * Check that the other backend runs nothing, and for supervisord write its
 * config: returns the command that runs supervisord in the foreground, or
 * null for the builtin daemon (which runs in this process).
 */
export async function prepareSupervisor(paths: HomePaths, kind: SupervisorKind): Promise<string[] | null> {
  await assertOtherBackendIdle(paths, kind);
  if (kind === "builtin") return null;
  await writeSupervisordConfig(paths);
  return supervisordCommand(paths);
}

/**
 * What `sarge supervisord` runs: the builtin daemon in this process, or the
 * real supervisord as a child that gets our signals (bin/supervisord execs
 * supervisord itself instead, see --exec-command), so systemd or a terminal
 * controls either the same way. Resolves to the exit code.
 */
export async function runSupervisorForeground(paths: HomePaths, kind: SupervisorKind): Promise<number> {
  const command = await prepareSupervisor(paths, kind);
  if (command === null) return runDaemon(paths);
  const [bin, ...args] = command;
  // listening before spawning: a signal that arrived between the two would kill us and orphan supervisord
  let forwardTo: ChildProcess | undefined;
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGUSR2"] as const) process.on(signal, () => forwardTo?.kill(signal));
  const child = spawn(bin!, args, { stdio: "inherit" });
  forwardTo = child;
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1)));
  });
}

import { performance } from "node:perf_hooks";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import { otherSlot } from "./routes.js";
import { listensFromServersState, loadFromStat, readRuntimeListens, serverLoad } from "./runtime.js";
import { adminCommand } from "./socket.js";
import type { RuntimeListen, Slot } from "./types.js";
import { BACKEND_HOST, HARD_STOP_AFTER_MS } from "./types.js";

type AdminPaths = Pick<HomePaths, "haproxyAdminSocket">;

export interface SwitchOptions {
  /** Longest wait for the old slot's running requests; then it goes to maintenance anyway. Default: hard-stop-after (60 s). */
  drainTimeoutMs?: number;
  /** Longest pause between two reads of the old slot's load while draining (it starts at 2 ms). Default 5 ms. */
  pollMs?: number;
  /** Called once the new slot takes requests, before the old one is drained (both serve meanwhile); for crash tests. */
  beforeDrain?: () => Promise<void>;
}

export interface SwitchResult {
  proc: string;
  to: Slot;
  port: number;
  /** The slot drained, or null when no slot was serving before. */
  from: Slot | null;
  /** From the call until the new slot takes requests. */
  readyMs: number;
  /** From the drain order until the old slot has no request left and is in maintenance (0 without an old slot). */
  drainedMs: number;
  totalMs: number;
  /** False when the drain bound passed with requests still running on the old slot (stopping its instance cuts them). */
  drained: boolean;
}

async function readListen(paths: AdminPaths, proc: string): Promise<RuntimeListen> {
  const listen = (await readRuntimeListens(paths)).find((l) => l.proc === proc);
  if (!listen) {
    throw new SargeError(`HAProxy has no listen block "${proc}" with blue and green servers; write the configuration and reload first`);
  }
  return listen;
}

async function setState(paths: AdminPaths, proc: string, slot: Slot, state: "ready" | "drain" | "maint"): Promise<void> {
  const command = `set server ${proc}/${slot} state ${state}`;
  const reply = await adminCommand(paths, command);
  if (reply.trim() !== "") throw new SargeError(`HAProxy refused "${command}": ${reply.trim()}`);
}

/**
 * Route the stable port of `proc` to `port` without dropping a request:
 * point the idle slot `to` at 127.0.0.1:port, make it
 * ready, drain the other slot, and put that one in maintenance once its
 * running and queued requests reach 0. No request reaches the old slot after
 * this resolves. The new port must already answer: a slot out of maintenance
 * counts as UP without any check. Switching to the slot that already serves
 * `port` (a retry) does nothing; to the serving slot with another port is refused. Rewrite the config (afterSwitch + render +
 * write) afterwards so a reload reproduces the new state.
 */
export async function switchSlot(
  paths: AdminPaths,
  proc: string,
  to: Slot,
  port: number,
  options: SwitchOptions = {},
): Promise<SwitchResult> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SargeError(`cannot switch "${proc}" to port ${String(port)}: not a TCP port`);
  }
  const drainTimeoutMs = options.drainTimeoutMs ?? HARD_STOP_AFTER_MS;
  const pollMs = options.pollMs ?? 5;
  const started = performance.now();
  const from = otherSlot(to);
  const before = await readListen(paths, proc);
  if (before[to].state === "ready" && before[from].state === "maint" && before[to].port === port && before[to].addr === BACKEND_HOST) {
    // Already done (a retried call): nothing to switch.
    return { proc, to, port, from: null, readyMs: 0, drainedMs: 0, totalMs: performance.now() - started, drained: true };
  }
  if (before[to].state === "ready" && before[from].state !== "ready") {
    throw new SargeError(`cannot switch "${proc}" to the ${to} slot: it is the slot serving traffic; switch to ${from} instead`);
  }
  // A slot left draining by an interrupted switch is taken out of rotation before it is re-pointed.
  if (before[to].state === "drain") await setState(paths, proc, to, "maint");

  // One exchange: point the slot at the new port, put it in service, read the result back.
  const commands = [`set server ${proc}/${to} addr ${BACKEND_HOST} port ${port}`, `set server ${proc}/${to} state ready`];
  const reply = await adminCommand(paths, [...commands, `show servers state ${proc}`].join("; "));
  const now = listensFromServersState(reply).find((l) => l.proc === proc);
  if (!now || now[to].state !== "ready" || now[to].port !== port || now[to].addr !== BACKEND_HOST) {
    const answer = reply.split(/^1\n# be_id/m)[0]!.trim();
    throw new SargeError(
      `HAProxy did not put ${proc}/${to} in service at ${BACKEND_HOST}:${port}` +
        (now ? ` (it reports ${now[to].state} at ${now[to].addr}:${now[to].port})` : ""),
      { detail: `${commands.join("; ")}: ${answer || "no answer"}` },
    );
  }
  const ready = performance.now();
  const readyMs = ready - started;

  if (before[from].state === "maint") {
    return { proc, to, port, from: null, readyMs, drainedMs: 0, totalMs: performance.now() - started, drained: true };
  }
  await options.beforeDrain?.();
  const drainStarted = performance.now();
  // The drain order and the first look at the old slot's load go in one exchange.
  const drainCommand = `set server ${proc}/${from} state drain`;
  const drainReply = await adminCommand(paths, `${drainCommand}; show stat ${proc} 4 -1`);
  if (!drainReply.trimStart().startsWith("# pxname")) {
    throw new SargeError(`HAProxy refused "${drainCommand}": ${drainReply.trim() || "empty reply"}`);
  }
  let load: number | null = loadFromStat(drainReply, proc, from);
  const idle = async () => {
    const current = load ?? (await serverLoad(paths, proc, from));
    load = null;
    return current === 0;
  };
  // Most requests finish within milliseconds: look again soon, then every pollMs.
  const interval = (attempt: number) => Math.min(2 * 2 ** attempt, pollMs);
  const drained = (await pollUntil(idle, { timeoutMs: drainTimeoutMs, intervalMs: interval })) === true;
  await setState(paths, proc, from, "maint");
  const end = performance.now();
  return { proc, to, port, from, readyMs, drainedMs: end - drainStarted, totalMs: end - started, drained };
}

import { readdirSync } from "node:fs";
import { pollUntil } from "./poll.js";
import { runningProcStat } from "./proc-stat.js";

/** `root` and every running process below it (by parent pid), root first. */
export function processTree(root: number): number[] {
  if (runningProcStat(root) === null) return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = runningProcStat(Number(entry))?.ppid;
    if (ppid !== undefined) children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Stop a child and what it started: `signal` to each, SIGKILL once `graceMs`
 * has passed, until none runs. For children that share sarge's process group,
 * so that a killed sarge (a dropped ssh session signals the group) takes them
 * along instead of leaving them writing into what the next command removes.
 */
export async function terminateTree(root: number, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const seen = new Set(processTree(root));
  signalAll([...seen], signal);
  const killAt = Date.now() + graceMs;
  await pollUntil(
    () => {
      const alive = [...seen].filter((pid) => runningProcStat(pid) !== null);
      for (const pid of alive) for (const below of processTree(pid)) seen.add(below);
      if (alive.length === 0) return true;
      if (Date.now() >= killAt) signalAll([...seen], "SIGKILL");
      return false;
    },
    { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: 20 },
  );
}

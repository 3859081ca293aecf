/**
 * Process groups seen through /proc. supervisord reports a program STOPPED as
 * soon as its main process is reaped; with stopasgroup the whole group got the
 * stop signal, but a member that ignores it outlives the main process (and
 * killasgroup only fires while the main process is still alive). sarge's
 * contract is "resolves once every process of the group is gone", so the
 * backend checks the group itself and kills what is left.
 */
import { readdir, readFile } from "node:fs/promises";

/** Live (not zombie) pids whose process group is `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  if (!(pgid > 1)) return [];
  const members: number[] = [];
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return [];
  }
  await Promise.all(
    entries.map(async (entry) => {
      if (!/^\d+$/.test(entry)) return;
      let stat: string;
      try {
        stat = await readFile(`/proc/${entry}/stat`, "utf8");
      } catch {
        return; // exited meanwhile
      }
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const state = fields[0];
      const pgrp = Number(fields[2]);
      if (pgrp === pgid && state !== "Z" && state !== "X") members.push(Number(entry));
    }),
  );
  return members.sort((a, b) => a - b);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until no live process is left in group `pgid`; after `graceMs`, SIGKILL
 * the group and wait up to `killWaitMs` more. Returns the pids still alive
 * at the end (empty when the group is gone).
 */
export async function waitGroupGone(pgid: number, graceMs: number, killWaitMs = 5_000): Promise<number[]> {
  const deadline = Date.now() + graceMs;
  let members = await groupMembers(pgid);
  while (members.length > 0 && Date.now() < deadline) {
    await sleep(20);
    members = await groupMembers(pgid);
  }
  if (members.length === 0) return [];
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: gone meanwhile; EPERM: not ours, reported below
  }
  const killDeadline = Date.now() + killWaitMs;
  while (members.length > 0 && Date.now() < killDeadline) {
    await sleep(20);
    members = await groupMembers(pgid);
  }
  return members;
}

/** `pgrp` and `session` of a live process, or null when it is gone (or a zombie). */
export async function procIds(pid: number): Promise<{ pgrp: number; session: number } | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return { pgrp: Number(fields[2]), session: Number(fields[3]) };
  } catch {
    return null;
  }
}

/**
 * Wait until the launcher in `pid` has made its own session (it then execs the
 * program at once), the process is gone, or `timeoutMs` passed. True when launched.
 */
export async function waitLaunched(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = await procIds(pid);
    if (ids === null) return false;
    if (ids.session === pid) return true;
    if (Date.now() > deadline) return false;
    await sleep(3);
  }
}

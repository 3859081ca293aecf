/**
 * Who listens on a TCP port, from /proc: the listening sockets' inodes and owners in
 * /proc/net/tcp and tcp6, and the processes whose /proc/<pid>/fd hold them. A TCP connect only
 * proves that someone listens; any local user can listen on a free unprivileged port.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { userName } from "../home/owner.js";
import { readCommandLine, readProcStat } from "../util/proc-stat.js";

export interface PortListener {
  inode: string;
  /** The socket's owner. */
  uid: number;
  /** Processes holding the socket; empty when sarge may not look into them (another user's). */
  pids: number[];
}

/**
 * Every socket listening on `port`, on any address: its inode and its owner's uid. The tables list
 * every connection too (thousands in TIME_WAIT on a busy host): read off the event loop, and only
 * the lines in state 0A (listen) on that port are picked out, by one expression.
 */
async function listeningSockets(port: number): Promise<Map<string, number>> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  // sl: local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
  const listening = new RegExp(`^\\s*\\d+: [0-9A-F]+:${hexPort} [0-9A-F]+:[0-9A-F]+ 0A \\S+ \\S+ \\S+\\s+(\\d+)\\s+\\d+\\s+(\\d+)`, "gm");
  const sockets = new Map<string, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => ""); // no IPv6
    for (const [, uid, inode] of text.matchAll(listening)) sockets.set(inode!, Number(uid));
  }
  return sockets;
}

/** Every socket listening on `port`, with the processes that hold it. */
async function portListeners(port: number): Promise<PortListener[]> {
  const sockets = await listeningSockets(port);
  if (sockets.size === 0) return [];
  const holders = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    for (const inode of socketInodes(pid)) {
      if (sockets.has(inode)) holders.set(inode, [...(holders.get(inode) ?? []), pid]);
    }
  }
  return [...sockets].map(([inode, uid]) => ({ inode, uid, pids: holders.get(inode) ?? [] }));
}

/** The inodes of the sockets a process holds; none when it is gone or another user's. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The direct children of a process (none when the kernel does not say: then the slow path looks at every process). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether `pid` is `root` or runs under it: in its process group, or a descendant. */
function belongsTo(pid: number, root: number): boolean {
  for (let current = pid, hops = 0; current > 1 && hops < 64; hops++) {
    const stat = readProcStat(current);
    if (stat === null) return false;
    if (current === root || stat.pgrp === root) return true;
    current = stat.ppid;
  }
  return false;
}

/**
 * Null when every socket listening on `port` is held by `owner`'s processes (its process group
 * or descendants), else who else listens there: "pid 812 of user nobody (python3 squat.py)".
 * A null `owner` (the program is not running) owns nothing.
 */
export async function foreignListener(port: number, owner: number | null): Promise<string | null> {
  // the usual case, without a look at every process: the program or its children (HAProxy's worker) hold every listening socket
  if (owner !== null) {
    const own = new Set([owner, ...childrenOf(owner)].flatMap((pid) => [...socketInodes(pid)]));
    if ([...(await listeningSockets(port)).keys()].every((inode) => own.has(inode))) return null;
  }
  const foreign = (await portListeners(port)).find((listener) => owner === null || !listener.pids.some((pid) => belongsTo(pid, owner)));
  if (!foreign) return null;
  const user = userName(foreign.uid);
  if (foreign.pids.length === 0) return `a process of user ${user} (its pid is hidden from sarge)`;
  return foreign.pids.map((pid) => `pid ${pid} of user ${user} (${describeCommand(readCommandLine(pid))})`).join(", ");
}

function describeCommand(command: string | null): string {
  return command === null ? "gone" : command || "?";
}

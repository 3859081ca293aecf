import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { adminCommand, masterCommand, type SocketRequestOptions } from "./socket.js";
import type { RuntimeListen, Slot, SlotRuntime, SlotState } from "./types.js";

type AdminPaths = Pick<HomePaths, "haproxyAdminSocket">;

/** HAProxy's srv_admin_state bits (server-t.h): any maintenance, any drain. */
const ADMF_MAINT = 0x01 | 0x02 | 0x20; // forced, inherited, resolution
const ADMF_DRAIN = 0x08 | 0x10; // forced, inherited

export function slotStateFromAdmin(adminState: number): SlotState {
  if (adminState & ADMF_MAINT) return "maint";
  if (adminState & ADMF_DRAIN) return "drain";
  return "ready";
}

/** A reply that is not the expected table is HAProxy's error message. */
function refuse(command: string, reply: string): never {
  throw new SargeError(`HAProxy refused "${command}": ${reply.trim() || "empty reply"}`);
}

/** Rows of `show servers state`, keyed by the header's column names. */
export function parseServersState(reply: string): Record<string, string>[] {
  const lines = reply.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) return [];
  const names = header.slice(2).trim().split(/\s+/);
  return lines
    .filter((l) => !l.startsWith("#") && /^\d+\s/.test(l))
    .map((l) => {
      const fields = l.trim().split(/\s+/);
      return Object.fromEntries(names.map((n, i) => [n, fields[i] ?? ""]));
    });
}

/** Rows of `show stat` (CSV), keyed by the header's column names. */
export function parseStatCsv(reply: string): Record<string, string>[] {
  const lines = reply.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) return [];
  const names = header.slice(2).split(",");
  return lines
    .filter((l) => !l.startsWith("#"))
    .map((l) => {
      const fields = l.split(",");
      return Object.fromEntries(names.map((n, i) => [n, fields[i] ?? ""]));
    });
}

/** The blue/green slots of every listen block, as HAProxy runs them now. */
export async function readRuntimeListens(paths: AdminPaths, options?: SocketRequestOptions): Promise<RuntimeListen[]> {
  const command = "show servers state";
  const reply = await adminCommand(paths, command, options);
  if (!reply.includes("# be_id")) refuse(command, reply);
  return listensFromServersState(reply);
}

/** Listen blocks with a blue and a green server in a `show servers state` reply. */
export function listensFromServersState(reply: string): RuntimeListen[] {
  const byProxy = new Map<string, Partial<Record<Slot, SlotRuntime>>>();
  for (const row of parseServersState(reply)) {
    const proxy = row.be_name ?? "";
    const name = row.srv_name;
    if (name !== "blue" && name !== "green") continue;
    const entry = byProxy.get(proxy) ?? {};
    entry[name] = {
      state: slotStateFromAdmin(Number(row.srv_admin_state)),
      addr: row.srv_addr ?? "",
      port: Number(row.srv_port),
    };
    byProxy.set(proxy, entry);
  }
  const listens: RuntimeListen[] = [];
  for (const [proc, slots] of byProxy) {
    if (slots.blue && slots.green) listens.push({ proc, blue: slots.blue, green: slots.green });
  }
  return listens;
}

/** Requests a server is handling now (scur) plus those queued for it (qcur). */
export async function serverLoad(paths: AdminPaths, proc: string, slot: Slot): Promise<number> {
  const command = `show stat ${proc} 4 -1`;
  const reply = await adminCommand(paths, command);
  if (!reply.trimStart().startsWith("# pxname")) refuse(command, reply);
  return loadFromStat(reply, proc, slot);
}

/** scur + qcur of one server in a `show stat` reply. */
export function loadFromStat(reply: string, proc: string, slot: Slot): number {
  const row = parseStatCsv(reply).find((r) => r.pxname === proc && r.svname === slot);
  if (!row) throw new SargeError(`HAProxy has no server ${proc}/${slot}; is etc/haproxy/haproxy.cfg out of date?`);
  return Number(row.scur || 0) + Number(row.qcur || 0);
}

/** `show info` from the admin socket: which worker answered. */
export async function adminInfo(paths: AdminPaths, options?: SocketRequestOptions): Promise<{ pid: number; version: string }> {
  const reply = await adminCommand(paths, "show info", options);
  const pid = /^Pid:\s*(\d+)/m.exec(reply);
  const version = /^Version:\s*(\S+)/m.exec(reply);
  if (!pid) refuse("show info", reply);
  return { pid: Number(pid[1]), version: version?.[1] ?? "" };
}

export interface ProcList {
  masterPid: number;
  reloads: number;
  /** Failed reloads so far (`[failed: N]`); null when HAProxy does not report it. */
  failedReloads: number | null;
  /** Current workers. */
  workers: number[];
  /** Workers still finishing requests after a reload. */
  oldWorkers: number[];
}

/** Parse the master CLI's `show proc`. */
export function parseShowProc(reply: string): ProcList | null {
  let section = "";
  let master: ProcList | null = null;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  for (const line of reply.split("\n")) {
    const heading = /^#\s*(workers|old workers|programs)\s*$/.exec(line.trim());
    if (heading) {
      section = heading[1]!;
      continue;
    }
    const m = /^(\d+)\s+(master|worker)\s+(\d+)(?:\s+\[failed:\s*(\d+)\])?/.exec(line.trim());
    if (!m) continue;
    const pid = Number(m[1]);
    if (m[2] === "master") {
      master = { masterPid: pid, reloads: Number(m[3]), failedReloads: m[4] === undefined ? null : Number(m[4]), workers, oldWorkers };
    } else if (section === "workers") {
      workers.push(pid);
    } else if (section === "old workers") {
      oldWorkers.push(pid);
    }
  }
  return master;
}

export async function showProc(paths: Pick<HomePaths, "haproxyMasterSocket">, options?: SocketRequestOptions): Promise<ProcList> {
  const reply = await masterCommand(paths, "show proc", options);
  const procs = parseShowProc(reply);
  if (!procs) refuse("show proc", reply);
  return procs;
}

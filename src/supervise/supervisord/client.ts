/**
 * The part of supervisord's XML-RPC interface sarge uses, typed and checked.
 * Method reference: supervisor/rpcinterface.py (supervisor 4.2).
 */
import { XmlRpcClient, XmlRpcProtocolError, type MulticallEntry, type MulticallResult, type XmlRpcValue } from "./xmlrpc.js";

export type SupervisordStateName =
  | "STOPPED"
  | "STARTING"
  | "RUNNING"
  | "BACKOFF"
  | "STOPPING"
  | "EXITED"
  | "FATAL"
  | "UNKNOWN";

const STATE_NAMES: ReadonlySet<string> = new Set(["STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN"]);

/** One entry of getProcessInfo / getAllProcessInfo. Times are epoch seconds, 0 = never. */
export interface ProcessInfo {
  name: string;
  group: string;
  description: string;
  start: number;
  stop: number;
  now: number;
  state: number;
  statename: SupervisordStateName;
  spawnerr: string;
  /** Unreliable: 0 after an exit within startsecs, -1 after death by a signal. */
  exitstatus: number;
  stdout_logfile: string;
  pid: number;
}

export interface ReloadResult {
  added: string[];
  changed: string[];
  removed: string[];
}

type Struct = { [key: string]: XmlRpcValue };

function bad(what: string): never {
  throw new XmlRpcProtocolError(`unexpected XML-RPC answer from supervisord: ${what}`);
}

function asStruct(v: XmlRpcValue, what: string): Struct {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Date || Buffer.isBuffer(v)) bad(`${what} is not a struct`);
  return v;
}

function str(s: Struct, key: string): string {
  const v = s[key];
  if (typeof v !== "string") bad(`${key} is not a string`);
  return v;
}

function int(s: Struct, key: string): number {
  const v = s[key];
  if (typeof v !== "number") bad(`${key} is not a number`);
  return v;
}

function stringArray(v: XmlRpcValue | undefined, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) bad(`${what} is not a list of names`);
  return v;
}

export function toProcessInfo(v: XmlRpcValue): ProcessInfo {
  const s = asStruct(v, "process info");
  const statename = str(s, "statename");
  if (!STATE_NAMES.has(statename)) bad(`unknown process state ${statename}`);
  return {
    name: str(s, "name"),
    group: str(s, "group"),
    description: str(s, "description"),
    start: int(s, "start"),
    stop: int(s, "stop"),
    now: int(s, "now"),
    state: int(s, "state"),
    statename: statename as SupervisordStateName,
    spawnerr: str(s, "spawnerr"),
    exitstatus: int(s, "exitstatus"),
    stdout_logfile: str(s, "stdout_logfile"),
    pid: int(s, "pid"),
  };
}

function bool(v: XmlRpcValue, method: string): boolean {
  if (typeof v !== "boolean") bad(`${method} did not return a boolean`);
  return v;
}

export class SupervisordClient {
  constructor(readonly rpc: XmlRpcClient) {}

  /** `{statecode, statename}` of supervisord itself (RUNNING, RESTARTING, SHUTDOWN...). */
  async getState(): Promise<{ statecode: number; statename: string }> {
    const s = asStruct(await this.rpc.call("supervisor.getState"), "state");
    return { statecode: int(s, "statecode"), statename: str(s, "statename") };
  }

  async getPID(): Promise<number> {
    const v = await this.rpc.call("supervisor.getPID");
    if (typeof v !== "number") bad("getPID did not return a number");
    return v;
  }

  async getProcessInfo(name: string): Promise<ProcessInfo> {
    return toProcessInfo(await this.rpc.call("supervisor.getProcessInfo", [name]));
  }

  async getAllProcessInfo(): Promise<ProcessInfo[]> {
    const v = await this.rpc.call("supervisor.getAllProcessInfo");
    if (!Array.isArray(v)) bad("getAllProcessInfo did not return a list");
    return v.map(toProcessInfo);
  }

  async startProcess(name: string, wait: boolean, timeoutMs?: number): Promise<boolean> {
    return bool(await this.rpc.call("supervisor.startProcess", [name, wait], timeoutMs ? { timeoutMs } : {}), "startProcess");
  }

  async stopProcess(name: string, wait: boolean, timeoutMs?: number): Promise<boolean> {
    return bool(await this.rpc.call("supervisor.stopProcess", [name, wait], timeoutMs ? { timeoutMs } : {}), "stopProcess");
  }

  async reloadConfig(): Promise<ReloadResult> {
    const v = await this.rpc.call("supervisor.reloadConfig");
    // [[added, changed, removed]]
    if (!Array.isArray(v) || !Array.isArray(v[0]) || v[0].length !== 3) bad("reloadConfig result shape");
    const [added, changed, removed] = v[0];
    return {
      added: stringArray(added, "added"),
      changed: stringArray(changed, "changed"),
      removed: stringArray(removed, "removed"),
    };
  }

  async addProcessGroup(name: string): Promise<boolean> {
    return bool(await this.rpc.call("supervisor.addProcessGroup", [name]), "addProcessGroup");
  }

  async removeProcessGroup(name: string): Promise<boolean> {
    return bool(await this.rpc.call("supervisor.removeProcessGroup", [name]), "removeProcessGroup");
  }

  /** Bytes of supervisord's own log; a negative offset reads that many bytes from the end (length 0). */
  async readLog(offset: number, length: number): Promise<string> {
    const v = await this.rpc.call("supervisor.readLog", [offset, length]);
    if (typeof v !== "string") bad("readLog did not return a string");
    return v;
  }

  async shutdown(): Promise<boolean> {
    return bool(await this.rpc.call("supervisor.shutdown"), "shutdown");
  }

  multicall(calls: readonly MulticallEntry[]): Promise<MulticallResult[]> {
    return this.rpc.multicall(calls);
  }
}

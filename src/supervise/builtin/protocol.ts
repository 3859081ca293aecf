/**
 * The builtin supervisor's wire protocol: one JSON object per line each way
 * over the unix socket. Requests carry an id; responses come back with it, in
 * completion order (a slow stop does not hold up a status call).
 */
import { constants } from "node:os";
import { isAbsolute } from "node:path";
import { SargeError } from "../../util/errors.js";
import type { ProgramSpec, ProgramStatus } from "../supervisor.js";

export interface Requests {
  /** `version`: the daemon's sarge (absent from daemons older than it). */
  ping: { params: Record<string, never>; result: { pid: number; version?: string } };
  /** Stop serving without stopping any program, and let a new daemon (the home's current sarge) adopt them. */
  handover: { params: Record<string, never>; result: { pid: number } };
  start: { params: { spec: ProgramSpec }; result: ProgramStatus };
  startExisting: { params: { name: string }; result: ProgramStatus };
  stop: { params: { name: string }; result: ProgramStatus };
  remove: { params: { name: string }; result: null };
  status: { params: Record<string, never>; result: ProgramStatus[] };
}

export type Method = keyof Requests;

export interface Request {
  id: number;
  method: Method;
  params: Record<string, unknown>;
}

export type Response = { id: number; result: unknown } | { id: number; error: string };

const methods = new Set<string>(["ping", "handover", "start", "startExisting", "stop", "remove", "status"]);

/** The id to answer with, even for a request that is otherwise invalid (-1 if none). */
export function requestId(value: unknown): number {
  return isObject(value) && typeof value.id === "number" ? value.id : -1;
}

/** Throws a SargeError naming what is wrong (e.g. a method an older daemon does not know). */
export function parseRequest(value: unknown): Request {
  if (!isObject(value) || typeof value.id !== "number") throw new SargeError("request without a numeric id");
  if (typeof value.method !== "string" || !methods.has(value.method)) throw new SargeError(`unknown method ${JSON.stringify(value.method)}`);
  const params = value.params ?? {};
  if (!isObject(params)) throw new SargeError("params must be an object");
  return { id: value.id, method: value.method as Method, params };
}

export function parseName(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new SargeError(`program name must match [A-Za-z0-9_-]+, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function parseSignal(value: unknown): NodeJS.Signals {
  if (typeof value !== "string" || !(value in constants.signals)) throw new SargeError(`unknown signal ${JSON.stringify(value)}`);
  return value as NodeJS.Signals;
}

/** Checks a spec received from a client or read back from disk. */
export function parseSpec(value: unknown): ProgramSpec {
  if (!isObject(value)) throw new SargeError("program spec must be an object");
  const name = parseName(value.name);
  const fail = (field: string, expected: string): never => {
    throw new SargeError(`program ${name}: ${field} must be ${expected}`);
  };
  const { command, cwd, env, logFile, stopSignal, stopTimeoutMs, stopTo, logs } = value;
  if (typeof command !== "string" || command === "") fail("command", "a non-empty string");
  if (typeof cwd !== "string" || !isAbsolute(cwd)) fail("cwd", "an absolute path");
  if (typeof logFile !== "string" || !isAbsolute(logFile)) fail("logFile", "an absolute path");
  if (!isObject(env) || !Object.values(env).every((item) => typeof item === "string")) fail("env", "an object of strings");
  const spec: ProgramSpec = {
    name,
    command: command as string,
    cwd: cwd as string,
    env: env as Record<string, string>,
    logFile: logFile as string,
  };
  if (stopSignal !== undefined) spec.stopSignal = parseSignal(stopSignal);
  if (stopTimeoutMs !== undefined) {
    if (typeof stopTimeoutMs !== "number" || !Number.isFinite(stopTimeoutMs) || stopTimeoutMs < 0) fail("stopTimeoutMs", "a number ≥ 0");
    spec.stopTimeoutMs = stopTimeoutMs as number;
  }
  if (stopTo !== undefined) {
    if (stopTo !== "main" && stopTo !== "group") fail("stopTo", '"main" or "group"');
    spec.stopTo = stopTo as "main" | "group";
  }
  if (logs !== undefined) {
    if (!isObject(logs) || !isCount(logs.maxBytes) || logs.maxBytes === 0 || !isCount(logs.keep)) {
      fail("logs", "{ maxBytes: integer > 0, keep: integer ≥ 0 }");
    }
    spec.logs = { maxBytes: (logs as { maxBytes: number }).maxBytes, keep: (logs as { keep: number }).keep };
  }
  return spec;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

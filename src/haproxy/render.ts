import type { HostPort } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { SargeError } from "../util/errors.js";
import { renderTemplate } from "../util/templates.js";
import type { ListenRoute, Slot } from "./types.js";
import { BACKEND_HOST, HARD_STOP_AFTER_MS, PLACEHOLDER_PORT, SLOTS } from "./types.js";

export interface HaproxyConfigInput {
  paths: Pick<HomePaths, "haproxyAdminSocket">;
  /** One entry per port_map process type, in the order to write them. */
  routes: readonly ListenRoute[];
}

/** Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL). */
export const MAX_UNIX_SOCKET_PATH = 107;

const PROC_NAME = /^[A-Za-z0-9_-]+$/;
const HOST = /^[A-Za-z0-9.:_-]+$/;

function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function formatBind(bind: HostPort): string {
  return `${bind.host}:${bind.port}`;
}

/**
 * A socket path HAProxy can take as one word and the kernel can bind: no
 * blanks, quotes, `#`, `$` or backslash, and at most 107 bytes.
 */
export function assertSocketPath(path: string, what: string): void {
  if (/[\s"'#$\\]/.test(path)) {
    throw new SargeError(
      `the HAProxy ${what} path contains a blank, quote, '#', '$' or backslash, which HAProxy cannot take: ${path}`,
      { detail: "Use a home folder whose path has none of these characters." },
    );
  }
  if (Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH) {
    throw new SargeError(
      `the HAProxy ${what} path is too long for a unix socket (${Buffer.byteLength(path)} bytes, at most ${MAX_UNIX_SOCKET_PATH}): ${path}`,
      { detail: "Use a shorter home folder." },
    );
  }
}

function checkRoute(route: ListenRoute): void {
  const where = `port_map entry "${route.proc}"`;
  if (!PROC_NAME.test(route.proc)) {
    throw new SargeError(`cannot write the HAProxy configuration: ${where} is not a valid process type name ([A-Za-z0-9_-]+)`);
  }
  if (!HOST.test(route.bind.host) || !isPort(route.bind.port)) {
    throw new SargeError(
      `cannot write the HAProxy configuration: ${where} has an invalid address ${JSON.stringify(formatBind(route.bind))}`,
    );
  }
  for (const slot of SLOTS) {
    const port = route[slot];
    if (port !== null && !isPort(port)) {
      throw new SargeError(`cannot write the HAProxy configuration: ${where} has an invalid ${slot} port ${String(port)}`);
    }
  }
  if (route.active !== null && route[route.active] === null) {
    throw new SargeError(`cannot write the HAProxy configuration: ${where} has ${route.active} active but no port in it`);
  }
}

/**
 * The complete haproxy.cfg for these routes. Every slot that
 * is not the active one is `disabled` (maintenance); an empty slot points at a
 * placeholder address. Throws a SargeError for input HAProxy could not use.
 */
export function renderHaproxyConfig(input: HaproxyConfigInput): string {
  assertSocketPath(input.paths.haproxyAdminSocket, "admin socket");
  const procs = new Set<string>();
  const binds = new Map<string, string>();
  for (const route of input.routes) {
    checkRoute(route);
    if (procs.has(route.proc)) {
      throw new SargeError(`cannot write the HAProxy configuration: process type "${route.proc}" is listed twice`);
    }
    procs.add(route.proc);
    const bind = formatBind(route.bind);
    const other = binds.get(bind);
    if (other !== undefined) {
      throw new SargeError(
        `cannot write the HAProxy configuration: "${other}" and "${route.proc}" both use the stable address ${bind}`,
      );
    }
    binds.set(bind, route.proc);
  }
  return renderTemplate("haproxy.cfg", {
    adminSocket: input.paths.haproxyAdminSocket,
    hardStopAfter: `${HARD_STOP_AFTER_MS / 1000}s`,
    listens: input.routes.map((route) => ({
      proc: route.proc,
      bind: formatBind(route.bind),
      servers: SLOTS.map((slot: Slot) => ({
        slot,
        address: `${BACKEND_HOST}:${route[slot] ?? PLACEHOLDER_PORT}`,
        disabled: route.active !== slot,
      })),
    })),
  });
}

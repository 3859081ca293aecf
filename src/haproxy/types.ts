import type { HostPort } from "../home/config-types.js";

/** Name of the HAProxy program under the supervisor. */
export const HAPROXY_PROGRAM = "haproxy";

/** The two server slots of every listen block. */
export type Slot = "blue" | "green";

export const SLOTS: readonly Slot[] = ["blue", "green"];

/**
 * One `port_map` entry as HAProxy serves it: the stable address and which
 * instance port sits in each slot. `active` is the slot taking traffic; the
 * other slot (and both, when `active` is null) is in maintenance.
 */
export interface ListenRoute {
  /** Process type, `[A-Za-z0-9_-]+`; also the name of the listen block. */
  proc: string;
  /** Stable address from port_map. */
  bind: HostPort;
  /** Instance port in the blue slot, or null when the slot is empty. */
  blue: number | null;
  /** Instance port in the green slot, or null when the slot is empty. */
  green: number | null;
  active: Slot | null;
}

/** Admin state of a slot as HAProxy holds it at run time. */
export type SlotState = "ready" | "drain" | "maint";

export interface SlotRuntime {
  state: SlotState;
  addr: string;
  port: number;
}

/** Live view of one listen block, read through the admin socket. */
export interface RuntimeListen {
  proc: string;
  blue: SlotRuntime;
  green: SlotRuntime;
}

/** Instances always listen on loopback; HAProxy reaches them there. */
export const BACKEND_HOST = "127.0.0.1";

/**
 * Address of an empty slot. It is always `disabled` (maintenance), so nothing
 * is ever sent there; port 1 (tcpmux) is not used by anything real.
 */
export const PLACEHOLDER_PORT = 1;

/**
 * `hard-stop-after`: how long an old worker may finish running requests after
 * a reload or stop. Also the default bound of a drain.
 */
export const HARD_STOP_AFTER_MS = 60_000;

import type { HostPort } from "../home/config-types.js";
import type { ListenRoute, RuntimeListen, Slot } from "./types.js";
import { PLACEHOLDER_PORT } from "./types.js";

export function otherSlot(slot: Slot): Slot {
  return slot === "blue" ? "green" : "blue";
}

/** The slot a deploy should fill next: the one not taking traffic (blue for a fresh route). */
export function idleSlot(route: ListenRoute): Slot {
  return route.active === null ? "blue" : otherSlot(route.active);
}

/** A route with both slots empty, as written before the first deploy of its process type. */
export function emptyRoute(proc: string, bind: HostPort): ListenRoute {
  return { proc, bind: { ...bind }, blue: null, green: null, active: null };
}

/**
 * The route after `switchSlot(paths, route.proc, slot, port)`: `slot` holds
 * `port` and is active; the other slot keeps its port, in maintenance. Render
 * this and write it so a later reload reproduces the runtime state.
 */
export function afterSwitch(route: ListenRoute, slot: Slot, port: number): ListenRoute {
  return { ...route, bind: { ...route.bind }, [slot]: port, active: slot };
}

function bindKey(bind: HostPort): string {
  return `${bind.host}:${bind.port}`;
}

/** Stable addresses in `next` that `previous` did not bind (these must be free before a reload). */
export function addedBinds(previous: readonly ListenRoute[], next: readonly ListenRoute[]): ListenRoute[] {
  const before = new Set(previous.map((r) => bindKey(r.bind)));
  return next.filter((r) => !before.has(bindKey(r.bind)));
}

/**
 * Whether the listeners differ (an address added, removed or moved, or a
 * listen block renamed). Only then does HAProxy need a reload; slot changes
 * are applied at run time through the admin socket.
 */
export function listenersChanged(previous: readonly ListenRoute[], next: readonly ListenRoute[]): boolean {
  const key = (routes: readonly ListenRoute[]) =>
    routes
      .map((r) => `${r.proc}=${bindKey(r.bind)}`)
      .sort()
      .join(",");
  return key(previous) !== key(next);
}

/**
 * The routes a running HAProxy is serving, given the stable addresses from
 * port_map: a slot in maintenance at the placeholder port is empty; a slot is
 * active when it is ready (a draining slot is on its way out). `active` is
 * null when no slot, or (after an interrupted switch) both slots, are ready.
 */
export function routesFromRuntime(
  runtime: readonly RuntimeListen[],
  portMap: Record<string, HostPort>,
): ListenRoute[] {
  const routes: ListenRoute[] = [];
  for (const listen of runtime) {
    const bind = portMap[listen.proc];
    if (!bind) continue;
    const port = (slot: Slot) => {
      const s = listen[slot];
      return s.state === "maint" && s.port === PLACEHOLDER_PORT ? null : s.port;
    };
    const ready = (["blue", "green"] as const).filter((s) => listen[s].state === "ready");
    routes.push({
      proc: listen.proc,
      bind: { ...bind },
      blue: port("blue"),
      green: port("green"),
      active: ready.length === 1 ? ready[0]! : null,
    });
  }
  return routes;
}

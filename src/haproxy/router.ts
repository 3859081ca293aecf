import { existsSync, readFileSync } from "node:fs";
import type { SargeConfig } from "../home/config-types.js";
import { processSettings } from "../home/config-processes.js";
import type { HomePaths } from "../home/paths.js";
import { idleSlot, otherSlot } from "./routes.js";
import { HAPROXY_PROGRAM, SLOTS, type ListenRoute, type Slot } from "./types.js";
import type { SargeLog } from "../util/sarge-log.js";
import type { ProgramStatus, Supervisor } from "../supervise/supervisor.js";
import { foreignListener } from "../instance/listeners.js";
import { tcpProbe } from "../util/tcp-probe.js";
import type { Router } from "../release/router.js";
import type { State } from "../instance/state.js";
import { pauseIfAsked } from "../release/steps.js";

/** What happens to requests a drain did not outlast: the old instance is stopped next, which cuts them. */
export function undrainedWarning(boundMs: number): string {
  return `the old slot still had requests after the ${boundMs / 1000} s drain bound; it is out of rotation, and any still running when its instance is stopped next are cut`;
}

/** The HAProxy modules, loaded when routing changes: commands that only look must not pay for them. */
const haproxy = () => import("./index.js");

/**
 * The Router over HAProxy: state.routes says which instance
 * sits in each slot; ports come from the instances, so a slot whose instance
 * was destroyed renders empty. HAProxy is started on first use and reloaded
 * only when the set of stable addresses changed since it was last applied.
 */
export function haproxyRouter(paths: HomePaths, config: SargeConfig, supervisor: Supervisor, log: SargeLog): Router {
  const listeners = () => Object.fromEntries(Object.entries(config.portMap).map(([proc, bind]) => [proc, `${bind.host}:${bind.port}`]));

  /** Starting, running or backing off: HAProxy is ours and holds (or will hold) the stable ports. */
  async function isServing(programs?: ProgramStatus[]): Promise<boolean> {
    const program = (programs ?? (await supervisor.status())).find((candidate) => candidate.name === HAPROXY_PROGRAM);
    return program !== undefined && program.state !== "stopped";
  }

  /** Write and validate the config (reloading when listeners changed); HAProxy's warnings go to the sarge log. */
  async function apply(next: readonly ListenRoute[], running: readonly ListenRoute[] | null): Promise<void> {
    const { applyHaproxyConfig } = await haproxy();
    const { warnings } = await applyHaproxyConfig(paths, config.haproxyBin, next, running);
    for (const warning of warnings) log.warn({ haproxy: warning }, "HAProxy warns about its configuration");
  }

  const routes = (proc: string) => config.portMap[proc] !== undefined;

  async function ensureServing(state: State, programs?: ProgramStatus[]): Promise<void> {
    const { haproxyProgram, waitForHaproxy } = await haproxy();
    const routes = routesOf(state, config);
    if (!(await isServing(programs))) {
      await apply(routes, null);
      await supervisor.start({ ...haproxyProgram(paths, config.haproxyBin), logs: config.logs });
    } else if (JSON.stringify(state.listeners ?? {}) !== JSON.stringify(listeners())) {
      await apply(routes, previousRoutes(state));
    }
    state.listeners = listeners();
    await waitForHaproxy(paths, { binds: Object.values(config.portMap) });
  }

  return {
    routes,

    async activate(state, proc, instanceId, port) {
      const { switchSlot } = await haproxy();
      await ensureServing(state);
      const slot = switchedSlot(state, config, proc, instanceId);
      // requests in flight on the old version may finish within the type's grace
      const drainTimeoutMs = processSettings(config.processes, proc).graceMs;
      const result = await switchSlot(paths, proc, slot, port, { drainTimeoutMs, beforeDrain: () => pauseIfAsked("switch-drain") });
      if (!result.drained) log.warn({ proc, slot: result.from }, undrainedWarning(drainTimeoutMs));
      routeTo(state, proc, slot, instanceId);
      const next = routesOf(state, config);
      await apply(next, next);
      return { switchMs: Math.round(result.totalMs) };
    },

    async prepareSwitches(state, instances) {
      const { renderHaproxyConfig, prepareHaproxyCheck } = await haproxy();
      const after = structuredClone(state);
      const checks = instances
        .filter((instance) => routes(instance.proc))
        .map((instance) => {
          routeTo(after, instance.proc, switchedSlot(after, config, instance.proc, instance.id), instance.id);
          return prepareHaproxyCheck(paths, renderHaproxyConfig({ paths, routes: routesOf(after, config) }), config.haproxyBin);
        });
      await Promise.all(checks);
    },

    async reconcile(state, programs) {
      const { readRuntimeListens, renderHaproxyConfig, switchSlot } = await haproxy();
      const wanted = routesOf(state, config);
      const started = !(await isServing(programs));
      if (started) {
        if (!wanted.some((route) => route.active !== null)) return { started: false, routedBack: [] };
        await ensureServing(state, programs);
      }
      const runtime = await readRuntimeListens(paths);
      const routedBack: string[] = [];
      for (const route of wanted) {
        const live = runtime.find((listen) => listen.proc === route.proc);
        if (!live || route.active === null) continue;
        const serving = SLOTS.filter((slot) => live[slot].state === "ready");
        const port = route[route.active]!;
        if (serving.length === 1 && serving[0] === route.active && live[route.active].port === port) continue;
        await switchSlot(paths, route.proc, route.active, port);
        routedBack.push(route.proc);
      }
      // a deploy killed between its switch and its config rewrite leaves the file behind the runtime
      const current = existsSync(paths.haproxyCfg) ? readFileSync(paths.haproxyCfg, "utf8") : "";
      if (current !== renderHaproxyConfig({ paths, routes: wanted })) await apply(wanted, wanted);
      return { started, routedBack };
    },

    async probe(proc) {
      const bind = config.portMap[proc];
      if (!bind) return `${proc} has no stable address`;
      const address = `${bind.host}:${bind.port}`;
      const [problem, programs] = await Promise.all([tcpProbe(bind.port, bind.host), supervisor.status()]);
      if (problem !== null) return `the stable address ${address} does not answer: ${problem}`;
      const haproxyPid = programs.find((program) => program.name === HAPROXY_PROGRAM)?.pid ?? null;
      const squatter = await foreignListener(bind.port, haproxyPid);
      return squatter === null ? null : `the stable address ${address} is not HAProxy's: ${squatter} listens there`;
    },
  };
}

/** The slot a switch of `proc` to `instanceId` fills: the one state says is serving when it already holds the instance, else the other. */
function switchedSlot(state: State, config: SargeConfig, proc: string, instanceId: string): Slot {
  const route = routesOf(state, config).find((candidate) => candidate.proc === proc)!;
  // the slot state says is serving, even when its instance was destroyed since (HAProxy still has it ready)
  const serving = state.routes[proc]?.active ?? route.active;
  return serving && state.routes[proc]?.[serving] === instanceId ? serving : serving ? otherSlot(serving) : idleSlot(route);
}

function routeTo(state: State, proc: string, slot: Slot, instanceId: string): void {
  state.routes[proc] = { blue: null, green: null, ...state.routes[proc], active: slot, [slot]: instanceId };
}

/** The HAProxy view of state: one route per port_map entry, slot ports from the instances they hold. */
export function routesOf(state: State, config: SargeConfig): ListenRoute[] {
  return Object.entries(config.portMap).map(([proc, bind]) => {
    const route = state.routes[proc];
    const portOf = (id: string | null | undefined) => (id ? (state.instances[id]?.port ?? null) : null);
    const blue = portOf(route?.blue);
    const green = portOf(route?.green);
    const active = route && portOf(route[route.active]) !== null ? route.active : null;
    return { proc, bind: { ...bind }, blue, green, active };
  });
}

/** The listeners HAProxy was last given, as routes (slots do not matter for a listener comparison). */
function previousRoutes(state: State): ListenRoute[] {
  return Object.entries(state.listeners ?? {}).map(([proc, address]) => {
    const separator = address.lastIndexOf(":");
    return { proc, bind: { host: address.slice(0, separator), port: Number(address.slice(separator + 1)) }, blue: null, green: null, active: null };
  });
}

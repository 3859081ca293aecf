import { otherSlot } from "../../src/haproxy/routes.js";
import type { HostPort } from "../../src/home/config-types.js";
import type { State } from "../../src/instance/state.js";
import type { Router } from "../../src/release/router.js";
import { Faults } from "./faults.js";

/**
 * The Router interface in memory: `serving` is what HAProxy would route each
 * stable port to. activate records slots in state.routes as the HAProxy router
 * does; faults are planted by instance id or process type.
 */
export class FakeRouter implements Router {
  readonly faults = new Faults<"activate">();
  /** Process type → the instance its stable port reaches; empty while HAProxy does not run. */
  readonly serving = new Map<string, string>();

  constructor(private readonly portMap: Record<string, HostPort>) {}

  routes(proc: string): boolean {
    return this.portMap[proc] !== undefined;
  }

  activate(state: State, proc: string, instanceId: string): Promise<{ switchMs: number }> {
    return this.faults.run("activate", instanceId, () => {
      const route = state.routes[proc];
      const slot = !route ? "blue" : route[route.active] === instanceId ? route.active : otherSlot(route.active);
      state.routes[proc] = { blue: null, green: null, ...route, active: slot, [slot]: instanceId };
      this.serving.set(proc, instanceId);
      return { switchMs: 1 };
    });
  }

  async prepareSwitches(): Promise<void> {}

  async reconcile(state: State): Promise<{ started: boolean; routedBack: string[] }> {
    const wanted = Object.keys(this.portMap).flatMap((proc) => {
      const route = state.routes[proc];
      const id = route?.[route.active];
      return id && state.instances[id] ? [{ proc, id }] : [];
    });
    const started = this.serving.size === 0 && wanted.length > 0;
    const routedBack = started ? [] : wanted.filter(({ proc, id }) => this.serving.get(proc) !== id).map(({ proc }) => proc);
    for (const { proc, id } of wanted) this.serving.set(proc, id);
    return { started, routedBack };
  }

  async probe(proc: string): Promise<string | null> {
    return this.serving.has(proc) ? null : `${proc} is not served`;
  }
}

import type { State } from "./state.js";

/** The stable-port side of a deploy: what the pipeline needs from HAProxy. */
export interface Router {
  /** Whether a process type has a stable address (is in port_map). */
  routes(proc: string): boolean;
  /**
   * Point the stable port of `proc` at `port` without dropping a request,
   * record the slot change in `state.routes`, and leave the config file in the
   * post-switch state. Starts HAProxy first if it is not running.
   */
  activate(state: State, proc: string, instanceId: string, port: number): Promise<{ switchMs: number }>;
  /**
   * Make HAProxy serve exactly what state says is active (after a killed
   * deploy it may still route to a half-made instance). Returns the process
   * types it had to route back. Does nothing when HAProxy is not running.
   */
  reconcile(state: State): Promise<string[]>;
  /** Whether the stable address of `proc` answers through HAProxy (for `sarge status`). */
  probe(proc: string): Promise<boolean>;
}

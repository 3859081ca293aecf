import type { InstanceRecord, State } from "../instance/state.js";
import type { ProgramStatus } from "../supervise/supervisor.js";

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
   * Check now, while `instances` get ready, what the switches to them (in this
   * order) will need, so that each switch waits only for what is left; a
   * failure is reported by the switch. Resolves when the checks have ended.
   */
  prepareSwitches(state: State, instances: InstanceRecord[]): Promise<void>;
  /**
   * Make HAProxy serve exactly what state says is active: start it when it
   * should run and does not (a new supervisor), and route back process types
   * a killed deploy left pointing at a half-made instance. `programs`: the
   * supervisor's status the caller has just read, so it is not asked again.
   */
  reconcile(state: State, programs: ProgramStatus[]): Promise<{ started: boolean; routedBack: string[] }>;
  /** Null when the stable address of `proc` answers through HAProxy, else why not (for `sarge status`). */
  probe(proc: string): Promise<string | null>;
}

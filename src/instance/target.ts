import { SargeError } from "../util/errors.js";
import { isInstanceId } from "./id.js";
import { processTypePattern } from "../procfile/parse.js";
import { activeInstance, instancesOf, type InstanceRecord, type State } from "./state.js";

/** An instance id, or a process type meaning its active instance (for run and logs). */
export function resolveTarget(state: State, target: string, options: { allowProc: boolean }): InstanceRecord {
  // own keys only: "constructor" or "__proto__" are names a user may type, not instances
  const instance = Object.hasOwn(state.instances, target) ? state.instances[target] : undefined;
  if (instance) return instance;
  if (!processTypePattern.test(target)) throw new SargeError(`"${target}" is not an instance id or a process type`, { exitCode: 2 });
  if (isInstanceId(target) || !options.allowProc) throw new SargeError(`no instance "${target}" in this home (see \`sarge list\`)`);
  const active = activeInstance(state, target);
  if (active) return active;
  const any = instancesOf(state, target)[0];
  if (any) return any;
  throw new SargeError(`no instance of process type "${target}" in this home (see \`sarge list\`)`);
}

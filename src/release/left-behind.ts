import type { InstanceRecord, State } from "../instance/state.js";
import type { ReleaseResult } from "./transaction.js";
import { compareText } from "../util/compare-text.js";

export interface LeftBehind {
  proc: string;
  release: number;
  commit: string | null;
}

/**
 * Active process types a deploy did not include that run other code than it
 * (another commit, or one sarge cannot tell): a partial deploy is never silent.
 */
export function typesLeftBehind(state: State, deployed: ReleaseResult): LeftBehind[] {
  const procs = new Set(deployed.instances.map((instance) => instance.proc));
  return Object.values(state.instances)
    .filter((record) => record.state === "active" && !procs.has(record.proc) && !sameCode(record, deployed.commit))
    .map(({ proc, release, commit }) => ({ proc, release, commit }))
    .sort((a, b) => compareText(a.proc, b.proc));
}

function sameCode(record: InstanceRecord, commit: string | null): boolean {
  return commit !== null && record.commit === commit;
}

export function describeLeftBehind(behind: LeftBehind[], deployed: ReleaseResult): string[] {
  if (behind.length === 0) return [];
  const lines = behind.map(({ proc, release, commit }) => `${proc} still runs release ${release}${commit ? `, commit ${commit.slice(0, 12)}` : ""}`);
  const procs = [...new Set([...deployed.instances.map((instance) => instance.proc), ...behind.map((type) => type.proc)])];
  return [...lines, `deploy ${behind.length === 1 ? "it" : "them"} with the same archive: sarge deploy - ${procs.join(" ")}`];
}

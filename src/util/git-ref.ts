import { spawnSync } from "node:child_process";
import { SargeError } from "./errors.js";

const commitPattern = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitId(text: string): boolean {
  return commitPattern.test(text);
}

/**
 * Checks what is about to be handed to git as a ref: a full commit id, or a
 * ref name git's own check-ref-format accepts ("main", "v1.2", "refs/tags/v1").
 * A leading "-" is refused first, so no value ever reaches git as an option.
 */
export function checkRef(ref: string): string {
  if (isCommitId(ref)) return ref;
  const problem = refProblem(ref);
  if (problem) throw new SargeError(`${JSON.stringify(ref)} is not a commit id or a ref name: ${problem}`, { exitCode: 2 });
  return ref;
}

/** Why git would not take `ref` as a ref name, or null when it would. */
export function refProblem(ref: string): string | null {
  if (ref === "") return "it is empty";
  if (ref.startsWith("-")) return "it starts with -";
  const result = spawnSync("git", ["check-ref-format", "--allow-onelevel", ref], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdio: "ignore" });
  if (result.error) throw new SargeError(`git could not run to check ${JSON.stringify(ref)}: ${result.error.message}`);
  return result.status === 0 ? null : "git check-ref-format refuses it (no spaces, ~ ^ : ? * [ \\, .., @{ or a trailing . or /)";
}

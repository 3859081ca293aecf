import { runChild } from "../../util/run-child.js";
import type { HomePaths } from "../../home/paths.js";
import { homeSarge } from "../../home/pinned-sarge.js";
import { HttpError } from "../http-error.js";

/**
 * Run the home's `sarge args...` (bin/sarge) as the CLI runs it over ssh, on behalf of
 * the token `who` (SARGE_ACTOR: history's "user"), so a release started from
 * a page takes the same lock and code path as any other. A failure is a 409
 * with sarge's own message.
 */
export async function runSargeAs(paths: HomePaths, who: string, args: string[], input = ""): Promise<string> {
  const result = await runChild(homeSarge(paths), args, { input, env: { ...process.env, SARGE_ACTOR: who } });
  if (result.exitCode !== 0) throw new HttpError(409, `sarge ${args[0]} failed: ${result.stderr.trim() || result.failure || `exit ${result.exitCode}`}`);
  return result.stdout;
}

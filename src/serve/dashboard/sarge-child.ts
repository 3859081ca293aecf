import { loadExeca } from "../../util/load-execa.js";
import { sargeBin } from "../../util/package-root.js";
import { HttpError } from "../http-error.js";

/**
 * Run `sarge --home <root> args...` as the CLI runs it over ssh, on behalf of
 * the token `who` (SARGE_ACTOR: history's "user"), so a release started from
 * a page takes the same lock and code path as any other. A failure is a 409
 * with sarge's own message.
 */
export async function runSargeAs(root: string, who: string, args: string[], input = ""): Promise<string> {
  const execa = await loadExeca();
  const result = await execa(process.execPath, [sargeBin, "--home", root, ...args], { input, reject: false, env: { SARGE_ACTOR: who } });
  if (result.exitCode !== 0) throw new HttpError(409, `sarge ${args[0]} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  return result.stdout;
}

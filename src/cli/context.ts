import type { Command } from "commander";
import { dirname, resolve } from "node:path";
import { realpathSync } from "node:fs";
import { actAsHomeOwner } from "../home/owner.js";
import { homePaths, type HomePaths } from "../home/paths.js";
import type { HomeContext } from "../home/context.js";
import type { OpenHome } from "../home/open.js";
import { ConfigError, SupervisorNotRunningError } from "../util/errors.js";

/**
 * The home a server-side command runs against: --home, else $SARGE_HOME, else
 * the folder above the bin/sarge wrapper that was run. From
 * here on the command acts as the home's owner (home/owner.ts).
 */
export function resolveHome(command: Command): HomePaths {
  const explicit: string | undefined = command.optsWithGlobals().home ?? process.env.SARGE_HOME;
  const invoked = process.argv[1] ? realpathSync(process.argv[1]) : process.cwd();
  const paths = homePaths(explicit ? resolve(explicit) : dirname(dirname(invoked)));
  actAsHomeOwner(paths);
  return paths;
}

/**
 * `--wait[=SECONDS]`: poll until the home's supervisor answers, for at most
 * that long (true: 30 s). Returns either way; the command then fails as usual
 * when it still does not answer.
 */
export async function waitForSupervisor(command: Command, wait: true | string): Promise<void> {
  const seconds = wait === true ? 30 : Number(wait);
  if (wait === "" || !Number.isFinite(seconds) || seconds < 0) throw new ConfigError(`--wait: expected a number of seconds, got "${String(wait)}"`);
  const paths = resolveHome(command);
  const [{ loadConfig }, supervise] = await Promise.all([import("../home/config.js"), import("../supervise/open.js")]);
  await supervise.waitForSupervisor(paths, loadConfig(paths), seconds * 1000);
}

/** Open the home's context for one command, and close the supervisor connection however the command ends. */
export async function withContext<T>(command: Command, name: string, work: (ctx: HomeContext) => Promise<T>): Promise<T> {
  return runWithContext(resolveHome(command), name, work);
}

async function runWithContext<T>(paths: HomePaths, name: string, work: (ctx: HomeContext) => Promise<T>): Promise<T> {
  const { openContext } = await import("../home/open.js");
  const ctx = await openContext(paths, name);
  try {
    return await work(ctx);
  } finally {
    await ctx.supervisor.close();
  }
}

/**
 * For commands that only look (list, status): while the supervisor is not
 * running, `recorded` answers from the home's files instead, and the command
 * prints that answer, says so on stderr and exits 3 so scripts notice.
 */
export async function withContextOrRecorded<T>(command: Command, name: string, work: (ctx: HomeContext) => Promise<T>, recorded: (home: OpenHome) => T): Promise<T> {
  const paths = resolveHome(command);
  try {
    return await runWithContext(paths, name, work);
  } catch (error) {
    if (!(error instanceof SupervisorNotRunningError)) throw error;
    const { openHome } = await import("../home/open.js");
    const answer = recorded(openHome(paths, name));
    process.stderr.write(`sarge: supervisor not running: this is what var/state.json says, process states unknown; start it with ${paths.root}/bin/supervisord\n`);
    process.exitCode = error.exitCode;
    return answer;
  }
}

import type { Command } from "commander";
import { dirname, resolve } from "node:path";
import { realpathSync } from "node:fs";
import { actAsHomeOwner } from "../home/owner.js";
import { homePaths, type HomePaths } from "../home/paths.js";
import type { HomeContext } from "../home/context.js";

/**
 * The home a server-side command runs against: --home, else $SARGE_HOME, else
 * the folder above the bin/sarge wrapper that was run (SPEC "Words"). From
 * here on the command acts as the home's owner (home/owner.ts).
 */
export function resolveHome(command: Command): HomePaths {
  const explicit: string | undefined = command.optsWithGlobals().home ?? process.env.SARGE_HOME;
  const invoked = process.argv[1] ? realpathSync(process.argv[1]) : process.cwd();
  const paths = homePaths(explicit ? resolve(explicit) : dirname(dirname(invoked)));
  actAsHomeOwner(paths);
  return paths;
}

/** Open the home's context for one command, and close the supervisor connection however the command ends. */
export async function withContext<T>(command: Command, name: string, work: (ctx: HomeContext) => Promise<T>): Promise<T> {
  const { openContext } = await import("../home/open.js");
  const ctx = await openContext(resolveHome(command), name);
  try {
    return await work(ctx);
  } finally {
    await ctx.supervisor.close();
  }
}

import type { FastifyReply } from "fastify";
import type { HomeContext } from "../home/context.js";
import { openContext, openHome, type OpenHome } from "../home/open.js";
import type { HomePaths } from "../home/paths.js";
import { SupervisorNotRunningError } from "../util/errors.js";

/**
 * A route's view of the home, opened per request as a CLI command opens it
 * (etc/sarge.yaml edits apply at once) and closed when the route is done.
 */
export async function withHomeContext<T>(paths: HomePaths, work: (ctx: HomeContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(paths, "serve");
  try {
    return await work(ctx);
  } finally {
    await ctx.supervisor.close();
  }
}

/**
 * For read routes, as the CLI's withContextOrRecorded: while the supervisor is
 * not running, `recorded` answers from the home's files, and the header
 * X-Sarge-Recorded says so (the body keeps the CLI's --json shape).
 */
export async function withContextOrRecorded<T>(paths: HomePaths, reply: FastifyReply, work: (ctx: HomeContext) => Promise<T>, recorded: (home: OpenHome) => T): Promise<T> {
  try {
    return await withHomeContext(paths, work);
  } catch (error) {
    if (!(error instanceof SupervisorNotRunningError)) throw error;
    void reply.header("x-sarge-recorded", `${error.message}; this is what var/state.json says`);
    return recorded(openHome(paths, "serve"));
  }
}

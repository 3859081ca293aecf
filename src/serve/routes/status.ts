import type { FastifyInstance } from "fastify";
import { requirePermission } from "../auth.js";
import { withSargeVersion } from "../../util/version.js";

/**
 * GET /api/v1/status: `sarge status --json`, sarge_version included, from the
 * server's shared look (src/serve/status-cache.ts: at most 2 s old). While the
 * supervisor is not running, the header X-Sarge-Recorded says the rows are what
 * var/state.json says.
 */
export function statusRoutes(app: FastifyInstance): void {
  app.get("/api/v1/status", { preHandler: requirePermission("read") }, async (_request, reply) => {
    const { rows, recorded } = await app.homeStatus.get();
    if (recorded !== null) void reply.header("x-sarge-recorded", recorded);
    return withSargeVersion(rows);
  });
}

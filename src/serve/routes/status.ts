import type { FastifyInstance } from "fastify";
import { procStatus, recordedStatus } from "../../instance/views.js";
import { requirePermission } from "../auth.js";
import { withContextOrRecorded } from "../home.js";
import { withSargeVersion } from "../../util/version.js";

/** GET /api/v1/status: `sarge status --json`, sarge_version included. */
export function statusRoutes(app: FastifyInstance): void {
  app.get("/api/v1/status", { preHandler: requirePermission("read") }, async (_request, reply) =>
    withSargeVersion(await withContextOrRecorded(app.sargeAuth.paths, reply, procStatus, recordedStatus)),
  );
}

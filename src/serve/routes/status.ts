import type { FastifyInstance } from "fastify";
import { procStatus, recordedStatus } from "../../instance/views.js";
import { requirePermission } from "../auth.js";
import { withContextOrRecorded } from "../home.js";

/** GET /api/v1/status: `sarge status --json`. */
export function statusRoutes(app: FastifyInstance): void {
  app.get("/api/v1/status", { preHandler: requirePermission("read") }, (_request, reply) =>
    withContextOrRecorded(app.sargeAuth.paths, reply, procStatus, recordedStatus),
  );
}

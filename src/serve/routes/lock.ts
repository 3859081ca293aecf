import type { FastifyInstance } from "fastify";
import { freezeDeploys, readDeployFreeze, unfreezeDeploys } from "../../home/deploy-freeze.js";
import { requirePermission } from "../auth.js";
import { HttpError } from "../http-error.js";

/** POST /api/v1/lock {"reason"} and DELETE /api/v1/lock: `sarge lock` / `sarge unlock`, who being the token's name. */
export function lockRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.post<{ Body: { reason?: unknown } }>("/api/v1/lock", { preHandler: requirePermission("lock") }, (request) => {
    const reason = request.body?.reason;
    if (typeof reason !== "string") throw new HttpError(400, 'send the reason as JSON: {"reason": "…"}');
    const standing = readDeployFreeze(paths);
    if (standing) throw new HttpError(409, `deploys are already locked by ${standing.who} since ${standing.since}: ${standing.reason}; DELETE /api/v1/lock lifts it first`);
    return freezeDeploys(paths, reason, request.who!);
  });
  app.delete("/api/v1/lock", { preHandler: requirePermission("lock") }, () => ({ unlocked: unfreezeDeploys(paths) }));
}

import type { FastifyInstance } from "fastify";
import { loadConfig } from "../../home/config.js";
import { envView } from "../../home/env-view.js";
import { requirePermission } from "../auth.js";
import { HttpError } from "../http-error.js";
import { can } from "../roles.js";
import { withSargeVersion } from "../../util/version.js";

/** GET /api/v1/config: `sarge config list --json`, names only; `?values=1` also the values, for admin tokens. */
export function configRoutes(app: FastifyInstance): void {
  app.get<{ Querystring: { values?: string } }>("/api/v1/config", { preHandler: requirePermission("read") }, (request) => {
    const values = request.query.values;
    if (values !== undefined && values !== "0" && values !== "1") throw new HttpError(400, `invalid values "${values}": use values=1 for the values, or leave it out`);
    if (values === "1" && !can(request.token!.role, "config-values")) {
      throw new HttpError(403, `token ${request.who} is a ${request.token!.role}: config values need an admin token (leave out values=1 for the names)`);
    }
    return withSargeVersion(envView(loadConfig(app.sargeAuth.paths).env, values === "1"));
  });
}

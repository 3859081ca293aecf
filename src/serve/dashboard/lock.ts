import type { FastifyInstance } from "fastify";
import { freezeDeploys, unfreezeDeploys } from "../../home/deploy-freeze.js";
import { pagePermission, signedIn } from "./page-auth.js";

/** POST /lock and /unlock from the home page: `sarge lock "reason"` / `sarge unlock`, as the token's name. */
export function lockRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  const deployer = { preHandler: pagePermission("lock") };
  app.post<{ Body: { reason?: string } }>("/lock", deployer, (request, reply) => {
    freezeDeploys(paths, request.body?.reason ?? "", signedIn(request).name);
    return reply.redirect("/", 303);
  });
  app.post("/unlock", deployer, (_request, reply) => {
    unfreezeDeploys(paths);
    return reply.redirect("/", 303);
  });
}

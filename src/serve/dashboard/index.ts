import fastifyFormbody from "@fastify/formbody";
import type { FastifyError, FastifyInstance } from "fastify";
import { SargeError } from "../../util/errors.js";
import { HttpError } from "../http-error.js";
import type { ReleaseQueue } from "../queue.js";
import { configRoutes } from "./config.js";
import { deployRoutes } from "./deploy.js";
import { eventRoutes } from "./events.js";
import { homeRoutes } from "./home.js";
import { instanceLogRoutes } from "./instance-logs.js";
import { lockRoutes } from "./lock.js";
import { loginRoutes } from "./login.js";
import { installOriginCheck } from "./origin-check.js";
import { sendPage } from "./page-auth.js";
import { staticRoutes } from "./static.js";
import { releaseRoutes } from "./release.js";
import { tokenRoutes } from "./tokens.js";

const pages = [staticRoutes, loginRoutes, homeRoutes, lockRoutes, instanceLogRoutes, configRoutes, tokenRoutes];

/**
 * The web dashboard (docs/server.md, "Dashboard"): server-rendered pages in
 * their own fastify scope, so its form parsers and its HTML error pages do
 * not touch the JSON API. The Origin check covers the whole server: any
 * state-changing request made with the session cookie is checked.
 */
export function dashboardRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  installOriginCheck(app);
  void app.register(async (scope) => {
    await scope.register(fastifyFormbody);
    scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
      const status = error instanceof HttpError ? error.statusCode : error instanceof SargeError ? 400 : ((error as FastifyError).statusCode ?? 500);
      const heading = status === 403 ? "Refused" : status === 404 ? "Not found" : status >= 500 ? "Server error" : "Cannot do that";
      const message = status >= 500 && !(error instanceof SargeError) ? `internal error: ${error.message} (details in var/log/sarge.log)` : error.message;
      const me = request.token ? { who: request.token.name, role: request.token.role } : null;
      return sendPage(reply, "error", { title: heading, me, status, heading, message }, status);
    });
    for (const page of pages) page(scope);
    eventRoutes(scope, queue);
    releaseRoutes(scope, queue);
    deployRoutes(scope, queue);
  });
}

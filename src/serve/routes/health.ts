import type { FastifyInstance } from "fastify";

/** GET /healthz: no token; answers while the server runs (the supervisor and HAProxy check it). */
export function healthRoutes(app: FastifyInstance): void {
  app.get("/healthz", async () => ({ ok: true }));
}

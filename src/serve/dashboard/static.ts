import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { dashboardTemplates } from "./render.js";

/** The dashboard's three assets, read once and served by the server itself: nothing is fetched from elsewhere. */
const assets: Record<string, { file: string; type: string }> = {
  "/static/dashboard.css": { file: "dashboard.css", type: "text/css; charset=utf-8" },
  "/static/dashboard.js": { file: "dashboard.js", type: "text/javascript; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
};

export function staticRoutes(app: FastifyInstance): void {
  for (const [url, { file, type }] of Object.entries(assets)) {
    const body = readFileSync(join(dashboardTemplates, "static", file));
    app.get(url, (_request, reply) => reply.type(type).header("cache-control", "public, max-age=3600").send(body));
  }
  app.get("/favicon.ico", (_request, reply) => reply.redirect("/favicon.svg", 301));
}

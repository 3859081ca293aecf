import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { FastifyInstance } from "fastify";
import { deployFreezePath } from "../../home/deploy-freeze.js";
import { pagePermission } from "./page-auth.js";

const heartbeatMs = 15_000;

/**
 * GET /events: an SSE stream with a `change` event whenever a release starts,
 * ends or moves, or deploys are locked or unlocked (var/state.json,
 * var/history.jsonl or var/deploy-freeze.json changed, whoever did it:
 * the API, the webhook or a `sarge deploy` over ssh). The pages re-render
 * their live part on it; a heartbeat keeps idle connections open.
 */
export function eventRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  const watched = new Set([basename(paths.state), basename(paths.history), basename(deployFreezePath(paths))]);
  app.get("/events", { preHandler: pagePermission("read") }, (request, reply) => {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    out.write("retry: 2000\n\n");
    let timer: NodeJS.Timeout | null = null;
    // writers replace state.json by rename and append history: one event per burst
    const watcher = watch(dirname(paths.state), (_event, name) => {
      if (name === null || !watched.has(name) || timer) return;
      timer = setTimeout(() => {
        timer = null;
        out.write("event: change\ndata: {}\n\n");
      }, 100);
    });
    const heartbeat = setInterval(() => out.write(": heartbeat\n\n"), heartbeatMs);
    request.raw.once("close", () => {
      watcher.close();
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
    });
  });
}

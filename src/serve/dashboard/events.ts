import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { FastifyInstance } from "fastify";
import { deployFreezePath } from "../../home/deploy-freeze.js";
import type { ReleaseQueue } from "../queue.js";
import { pagePermission } from "./page-auth.js";

const heartbeatMs = 15_000;
const queueEvents = ["release-queued", "release-started", "release-finished"];

/**
 * GET /events: an SSE stream with a `change` event whenever a release starts,
 * ends or moves, or deploys are locked or unlocked (var/state.json,
 * var/history.jsonl or var/deploy-freeze.json changed, whoever did it:
 * the API, the webhook or a `sarge deploy` over ssh), or the queue took or
 * dropped a request. The pages re-render
 * their live part on it; a heartbeat keeps idle connections open.
 */
export function eventRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  const paths = app.sargeAuth.paths;
  const watched = new Set([basename(paths.state), basename(paths.history), basename(deployFreezePath(paths))]);
  app.get("/events", { preHandler: pagePermission("read") }, (request, reply) => {
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    out.write("retry: 2000\n\n");
    let timer: NodeJS.Timeout | null = null;
    // writers replace state.json by rename and append history: one event per burst
    const changed = (): void => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = null;
        out.write("event: change\ndata: {}\n\n");
      }, 100);
    };
    const watcher = watch(dirname(paths.state), (_event, name) => {
      if (name !== null && watched.has(name)) changed();
    });
    for (const event of queueEvents) queue.on(event, changed);
    const heartbeat = setInterval(() => out.write(": heartbeat\n\n"), heartbeatMs);
    request.raw.once("close", () => {
      watcher.close();
      for (const event of queueEvents) queue.off(event, changed);
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
    });
  });
}

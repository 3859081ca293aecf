import type { FastifyInstance, FastifyRequest } from "fastify";
import { readFileSync } from "node:fs";
import { finished } from "node:stream/promises";
import { can } from "../roles.js";
import { requirePermission } from "../auth.js";
import { HttpError } from "../http-error.js";
import { releaseLogPath } from "../log-stream.js";
import type { ReleaseQueue } from "../queue.js";
import { refRequestSource } from "../webhook/source.js";
import { checkWindow } from "../windows.js";
import { pollUntil } from "../../util/poll.js";
import { releaseNumber } from "./releases.js";

interface DeployQuery {
  procs?: string;
  force?: string;
}

/**
 * POST /api/v1/releases: a tar (plain or gzip) as the body, streamed into
 * `sarge deploy -` when nothing runs, else spooled until its turn; 202 with
 * the release id. POST /api/v1/releases/:release/cancel; GET /api/v1/queue.
 */
export function deployRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  void app.register(async (scope) => {
    // the body is the archive, read as a stream by the deploy: no parsing, no buffering
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.post<{ Querystring: DeployQuery }>("/api/v1/releases", { preHandler: requirePermission("deploy") }, async (request, reply) => {
      const force = allowedForce(request, request.query.force);
      const outside = force ? null : checkWindow(request.token!);
      if (outside) throw new HttpError(403, outside);
      const procs = request.query.procs === undefined ? null : request.query.procs.split(",").filter(Boolean);
      // {"ref": …}: fetched from webhook.repository when the release runs (src/serve/webhook/source.ts)
      const ref = await refRequestSource(app.sargeAuth.paths, request);
      if (ref) return reply.status(202).send(await queue.submit({ kind: "deploy", ref, procs, who: request.who!, force, source: "api" }));
      const { id, state } = await queue.submit({ kind: "deploy", body: request.raw, procs, who: request.who!, force, source: "api" });
      if (state === "running") await unpackedOrEnded(queue, id, request);
      const record = queue.get(id)!;
      if (record.state === "failed") throw new HttpError(400, `${record.error ?? "the deploy failed"} (release ${id})`);
      return reply.status(202).send({ id, state: record.state });
    });
  });

  app.post<{ Params: { release: string } }>("/api/v1/releases/:release/cancel", { preHandler: requirePermission("cancel") }, (request) =>
    queue.cancel(releaseNumber(request.params.release), request.who!),
  );

  app.get("/api/v1/queue", { preHandler: requirePermission("read") }, () => queue.list());
}

/** ?force=1 is an admin's: through the deploy lock and outside the token's window. */
function allowedForce(request: FastifyRequest, force: string | undefined): boolean {
  if (force === undefined || force === "0") return false;
  if (!can(request.token!.role, "force")) throw new HttpError(403, `token ${request.who} is a ${request.token!.role}: forcing a deploy needs an admin`);
  return true;
}

/** A body streamed into the deploy: answer once it is all read and unpacked (or refused, with the same message as sarge deploy). */
async function unpackedOrEnded(queue: ReleaseQueue, id: number, request: FastifyRequest): Promise<void> {
  await finished(request.raw).catch(() => undefined);
  const log = releaseLogPath(request.server.sargeAuth.paths, id);
  await pollUntil(
    () => queue.get(id)?.state !== "running" || /\bunpacked \d+ entries/.test(readFileSync(log, { encoding: "utf8", flag: "r" })),
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

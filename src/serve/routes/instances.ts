import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { isInstanceId } from "../../instance/id.js";
import { instanceOrReleasedLog } from "../../instance/released-logs.js";
import { readState } from "../../instance/state.js";
import { listInstances, recordedInstances } from "../../instance/views.js";
import { requirePermission } from "../auth.js";
import { withContextOrRecorded } from "../home.js";
import { HttpError } from "../http-error.js";
import { serveLog } from "../log-stream.js";
import { withSargeVersion } from "../../util/version.js";

/** GET /api/v1/instances (`sarge list --json`) and an instance's output, paged or streamed (src/serve/log-stream.ts). */
export function instanceRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.get("/api/v1/instances", { preHandler: requirePermission("read") }, async (_request, reply) =>
    withSargeVersion(await withContextOrRecorded(paths, reply, listInstances, (home) => recordedInstances(home.paths))),
  );

  app.get<{ Params: { instance: string } }>("/api/v1/instances/:instance/log", { preHandler: requirePermission("read") }, (request, reply) => {
    const id = request.params.instance;
    if (!isInstanceId(id)) throw new HttpError(400, `invalid instance id "${id}": ids look like web-k3x9qa (GET /api/v1/instances lists them)`);
    const live = Object.hasOwn(readState(paths).instances, id);
    const file = instanceOrReleasedLog(paths, id, live);
    if (!live && !existsSync(file)) throw new HttpError(404, `no instance ${id} in this home, nor a kept log of one (GET /api/v1/instances lists them)`);
    return serveLog(request, reply, { file: () => instanceOrReleasedLog(paths, id, Object.hasOwn(readState(paths).instances, id)) });
  });
}

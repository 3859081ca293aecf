import type { FastifyInstance } from "fastify";
import { instanceLogPath } from "../../home/paths.js";
import { readLogTail } from "../../instance/logs.js";
import { readState } from "../../instance/state.js";
import { HttpError } from "../http-error.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";
import { fileSize } from "../../util/file-bytes.js";

const tailLines = 200;

/** GET /instances/<id>/logs: the last lines, then followed live by dashboard.js through the API's log stream. */
export function instanceLogRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.get<{ Params: { id: string } }>("/instances/:id/logs", { preHandler: pagePermission("read") }, (request, reply) => {
    const { id } = request.params;
    if (!readState(paths).instances[id]) throw new HttpError(404, `no instance ${id} in this home (the home page lists them)`);
    // the size before the tail: a line written in between is shown twice rather than lost
    const offset = fileSize(instanceLogPath(paths, id));
    const tail = readLogTail(paths, id, tailLines);
    return sendPage(reply, "instance-logs", {
      ...pageBase(signedIn(request), `Log of ${id}`),
      instance: id,
      lines: tailLines,
      logText: tail.text,
      logStream: `/api/v1/instances/${encodeURIComponent(id)}/log`,
      logOffset: offset,
    });
  });
}

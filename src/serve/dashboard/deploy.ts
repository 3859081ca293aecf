import { finished } from "node:stream/promises";
import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { readDeployFreeze } from "../../home/deploy-freeze.js";
import { HttpError } from "../http-error.js";
import type { ReleaseQueue } from "../queue.js";
import { checkWindow } from "../windows.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";

/**
 * /deploy: upload an archive; it is streamed from the form's body into the
 * release queue (as POST /api/v1/releases does), and the browser goes to the
 * queued release's page, where its log follows.
 */
export function deployRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  const paths = app.sargeAuth.paths;
  const deployer = { preHandler: pagePermission("deploy") };
  void app.register(fastifyMultipart, { limits: { files: 1, fields: 4 } });

  app.get("/deploy", deployer, (request, reply) =>
    sendPage(reply, "deploy", { ...pageBase(signedIn(request), "Deploy"), lock: readDeployFreeze(paths) }),
  );

  app.post("/deploy", deployer, async (request, reply) => {
    const token = signedIn(request);
    const outside = checkWindow(token);
    if (outside) throw new HttpError(403, outside);
    // the form sends procs before the file, so the file can be streamed as it arrives
    const upload = await request.file();
    if (!upload) throw new HttpError(400, "no archive in the form: choose a .tar or .tar.gz file");
    const procsField = upload.fields.procs;
    const procsText = procsField && "value" in procsField ? String(procsField.value).trim() : "";
    const procs = procsText === "" ? null : procsText.split(",").map((proc) => proc.trim()).filter(Boolean);
    const { id } = await queue.submit({ kind: "deploy", body: upload.file, procs, who: token.name, source: "api" });
    await finished(upload.file).catch(() => undefined);
    return reply.redirect(`/releases/${id}`, 303);
  });

  app.post<{ Params: { id: string } }>("/releases/:id/cancel", { preHandler: pagePermission("cancel") }, (request, reply) => {
    const id = Number(request.params.id);
    queue.cancel(id, signedIn(request).name);
    return reply.redirect(`/releases/${id}`, 303);
  });
}

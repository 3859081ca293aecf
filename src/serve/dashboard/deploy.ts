import { finished } from "node:stream/promises";
import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
import { loadConfig } from "../../home/config.js";
import { readDeployFreeze } from "../../home/deploy-freeze.js";
import { HttpError } from "../http-error.js";
import type { ReleaseQueue } from "../queue.js";
import { refDeploySource } from "../webhook/source.js";
import { checkWindow } from "../windows.js";
import { commitChoice } from "./deploy-source.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";

/**
 * /deploy: upload an archive, streamed from the form's body into the release
 * queue (as POST /api/v1/releases does), or pick a commit of
 * webhook.repository, which the release fetches into the mirror (as
 * `{"ref": …}` through the API does); the browser goes to the queued
 * release's page, where its log follows.
 */
export function deployRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  const paths = app.sargeAuth.paths;
  const deployer = { preHandler: pagePermission("deploy") };
  void app.register(fastifyMultipart, { limits: { files: 1, fields: 4 } });

  app.get("/deploy", deployer, async (request, reply) =>
    sendPage(reply, "deploy", { ...pageBase(signedIn(request), "Deploy"), lock: readDeployFreeze(paths), source: await commitChoice(paths) }),
  );

  app.post<{ Body: { ref?: string; procs?: string } }>("/deploy", deployer, async (request, reply) => {
    const token = signedIn(request);
    const outside = checkWindow(token);
    if (outside) throw new HttpError(403, outside);
    if (!request.isMultipart()) {
      const ref = refDeploySource(paths, loadConfig(paths).webhook, request.body?.ref);
      const { id } = await queue.submit({ kind: "deploy", ref, procs: procsOf(request.body?.procs), who: token.name, source: "api" });
      return reply.redirect(`/releases/${id}`, 303);
    }
    // the form sends procs before the file, so the file can be streamed as it arrives
    const upload = await request.file();
    if (!upload) throw new HttpError(400, "no archive in the form: choose a .tar or .tar.gz file");
    const procsField = upload.fields.procs;
    const procs = procsOf(procsField && "value" in procsField ? String(procsField.value) : undefined);
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

/** The form's "web,worker"; blank: null (those running now, or web). */
function procsOf(text: string | undefined): string[] | null {
  const procs = (text ?? "").split(",").map((proc) => proc.trim()).filter(Boolean);
  return procs.length === 0 ? null : procs;
}

import type { FastifyInstance, FastifyRequest } from "fastify";
import { loadConfig } from "../../home/config.js";
import { openSargeLog } from "../../util/sarge-log.js";
import { HttpError } from "../http-error.js";
import { BodyTooLarge, readCappedBody } from "../webhook/capped-body.js";
import { receiveDelivery, type DeploySubmitter } from "../webhook/receive.js";
import { signatureHeader } from "../webhook/signature.js";

/** GitHub sends up to 25 MB; a push payload is far smaller, and it is held in memory until its signature is checked. */
export const maxDeliveryBytes = 5 * 1024 * 1024;
/** Beyond this a refused body is not even read to its end: the connection is dropped after the 413. */
const maxDrainedBytes = 32 * 1024 * 1024;

/**
 * POST /hooks/github (docs/server.md, "Webhook deploys"): authenticated by
 * the X-Hub-Signature-256 of webhook.secret, not by a token. Without a
 * secret in etc/sarge.yaml it is answered as any unknown path, before a
 * byte of the body is read.
 */
export function webhookRoutes(app: FastifyInstance, queue: DeploySubmitter): void {
  const paths = app.sargeAuth.paths;
  const log = openSargeLog(paths, "serve");
  const configured = () => {
    const { secret, repository, ...rest } = loadConfig(paths).webhook;
    return secret === null || repository === null ? null : { secret, repository, ...rest };
  };
  void app.register(async (scope) => {
    // the signature covers the bytes as sent: this route alone gets them unparsed
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (request, payload, done) => {
      readCappedBody(payload, Number(request.headers["content-length"] ?? 0), maxDeliveryBytes, maxDrainedBytes).then(
        (body) => done(null, body),
        (error: Error) => done(error instanceof BodyTooLarge ? new HttpError(413, "the delivery is larger than 5 MiB, the most sarge takes at /hooks/github") : error, undefined),
      );
    });
    const onRequest = async (_request: FastifyRequest, reply: import("fastify").FastifyReply) => {
      if (configured() === null) return reply.callNotFound();
    };
    scope.post("/hooks/github", { bodyLimit: maxDrainedBytes, onRequest }, async (request, reply) => {
      const webhook = configured();
      if (webhook === null) return reply.callNotFound();
      const answer = await receiveDelivery(
        {
          event: header(request, "x-github-event"),
          id: header(request, "x-github-delivery"),
          signature: request.headers[signatureHeader],
          contentType: header(request, "content-type"),
          body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        },
        { paths, webhook, queue, log },
      );
      if (answer.who) request.who = answer.who;
      return reply.status(answer.status).send(answer.body);
    });
  });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "../http-error.js";
import { sessionCookie } from "../auth.js";

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Cross-site request forgery: the session cookie is SameSite=Strict, and on
 * top of that every state-changing request that carries it must come from a
 * page of this server (its Origin, or else its Referer, names this host).
 * Requests with a Bearer token carry no ambient credential and are not checked.
 */
export function installOriginCheck(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    if (safeMethods.has(request.method) || request.headers.authorization !== undefined) return;
    if (request.cookies?.[sessionCookie] === undefined && !request.url.startsWith("/login")) return;
    const from = requestOrigin(request);
    const host = request.headers.host;
    if (from === null || host === undefined || from !== host) {
      throw new HttpError(403, `refused: this ${request.method} came from ${from ?? "an unknown page"}, not from a page of ${host ?? "this server"} (cross-site request)`);
    }
  });
}

/** The host:port the request's page was served from, or null when the browser did not say. */
function requestOrigin(request: FastifyRequest): string | null {
  const header = request.headers.origin ?? request.headers.referer;
  if (header === undefined || header === "null") return header === "null" ? "a sandboxed or opaque page" : null;
  try {
    return new URL(header).host;
  } catch {
    return null;
  }
}

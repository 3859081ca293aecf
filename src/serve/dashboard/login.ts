import type { FastifyInstance } from "fastify";
import { sessionCookie } from "../auth.js";
import { HttpError } from "../http-error.js";
import { verifyToken } from "../tokens.js";
import { sendPage } from "./page-auth.js";

/** Only a path of this server is a place to go back to after logging in. */
function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function loginRoutes(app: FastifyInstance): void {
  const auth = app.sargeAuth;
  const sessionHours = Math.round(auth.sessions.ttlMs / 3_600_000);
  const view = (next: string, error?: string) => ({ title: "Log in", next, sessionHours, error });

  app.get<{ Querystring: { next?: string } }>("/login", (request, reply) => sendPage(reply, "login", view(safeNext(request.query.next))));

  app.post<{ Body: { token?: string; next?: string } }>("/login", (request, reply) => {
    const next = safeNext(request.body?.next);
    const retryMs = auth.limiter.retryAfterMs(request.client);
    if (retryMs > 0) throw new HttpError(429, `too many failed token attempts from ${request.client}: try again in ${Math.ceil(retryMs / 1000)} s`);
    const check = verifyToken(auth.paths, (request.body?.token ?? "").trim());
    if (!check.ok) {
      auth.limiter.record(request.client);
      return sendPage(reply, "login", view(next, check.reason), 401);
    }
    const id = auth.sessions.create(check.token.hash);
    void reply.setCookie(sessionCookie, id, {
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure: request.overTls,
      maxAge: Math.floor(auth.sessions.ttlMs / 1000),
    });
    return reply.redirect(next, 303);
  });

  app.post("/logout", (request, reply) => {
    const id = request.cookies[sessionCookie];
    if (id !== undefined) auth.sessions.end(id);
    void reply.clearCookie(sessionCookie, { path: "/" });
    return reply.redirect("/login", 303);
  });
}

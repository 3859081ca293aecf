import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import { authenticate } from "../auth.js";
import { HttpError } from "../http-error.js";
import { can, leastRoleWith, type Permission } from "../roles.js";
import type { TokenRecord } from "../tokens.js";
import { renderPage } from "./render.js";

/** What every page's layout needs: who is signed in and which buttons to show. */
export interface PageBase {
  title: string;
  me: { who: string; role: string };
  can: { deploy: boolean; cancel: boolean; rollback: boolean; lock: boolean; config: boolean; tokens: boolean; force: boolean };
}

export function pageBase(token: TokenRecord, title: string): PageBase {
  return {
    title,
    me: { who: token.name, role: token.role },
    can: {
      deploy: can(token.role, "deploy"),
      cancel: can(token.role, "cancel"),
      rollback: can(token.role, "rollback"),
      lock: can(token.role, "lock"),
      config: can(token.role, "config-values"),
      tokens: can(token.role, "tokens"),
      force: can(token.role, "force"),
    },
  };
}

/**
 * A page's preHandler: as the API's requirePermission (the same token check,
 * failures counted per address), but a browser without a live session is
 * sent to /login, and a refusal is an HTML page with the same message.
 */
export function pagePermission(permission: Permission): preHandlerAsyncHookHandler {
  return async function (request, reply) {
    let token: TokenRecord;
    try {
      token = authenticate(request);
    } catch (error) {
      if (error instanceof HttpError && error.statusCode === 401) {
        const next = request.method === "GET" ? `?next=${encodeURIComponent(request.url)}` : "";
        return reply.redirect(`/login${next}`, 303);
      }
      throw error;
    }
    if (!can(token.role, permission)) {
      throw new HttpError(403, `token ${token.name} is a ${token.role}: this needs a ${leastRoleWith(permission)} or above (${permission})`);
    }
  };
}

/** The signed-in token of a request that passed pagePermission. */
export function signedIn(request: FastifyRequest): TokenRecord {
  if (!request.token) throw new Error("pagePermission must run before this page");
  return request.token;
}

/** Renders and sends a page; its render time joins the route's own Server-Timing entries. */
export function sendPage(reply: FastifyReply, page: string, view: object, status = 200): FastifyReply {
  const began = performance.now();
  const html = renderPage(page, view);
  const render = `render;dur=${(performance.now() - began).toFixed(1)}`;
  const earlier = reply.getHeader("server-timing");
  return reply
    .status(status)
    .type("text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header("server-timing", earlier === undefined ? render : `${String(earlier)}, ${render}`)
    .send(html);
}

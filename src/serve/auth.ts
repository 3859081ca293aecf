import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from "fastify";
import type { HomePaths } from "../home/paths.js";
import { FailureLimiter, type FailureLimits } from "./failure-limit.js";
import { HttpError } from "./http-error.js";
import { can, leastRoleWith, type Permission } from "./roles.js";
import { SessionStore } from "./sessions.js";
import { tokenByHash, tokenUsable, verifyToken, type TokenCheck, type TokenRecord } from "./tokens.js";

declare module "fastify" {
  interface FastifyInstance {
    sargeAuth: AuthState;
  }
  interface FastifyRequest {
    /** The name of the token the request came with: the "who" of history and notifications. */
    who: string | null;
    token: TokenRecord | null;
    /** Whom the failed-token limit counts against (src/serve/proxy-secret.ts). */
    client: string;
    /** Reached over TLS, directly or through the home's TLS HAProxy (never because a client says so in a header). */
    overTls: boolean;
  }
}

export const sessionCookie = "sarge_session";

export interface AuthState {
  paths: HomePaths;
  limiter: FailureLimiter;
  sessions: SessionStore;
}

export interface AuthOptions {
  failures?: FailureLimits;
  sessionTtlMs?: number;
}

export function installAuth(app: FastifyInstance, paths: HomePaths, options: AuthOptions = {}): void {
  app.decorate("sargeAuth", {
    paths,
    limiter: new FailureLimiter(options.failures ?? { max: 10, windowMs: 60_000 }),
    sessions: new SessionStore(options.sessionTtlMs ?? 12 * 3_600_000),
  });
  app.decorateRequest("who", null);
  app.decorateRequest("token", null);
  app.decorateRequest("client", "");
  app.decorateRequest("overTls", false);
}

/**
 * The preHandler a route declares: the request must carry a usable token
 * (`Authorization: Bearer`, or the dashboard's session cookie) whose role has
 * `permission`. Sets request.who and request.token.
 */
export function requirePermission(permission: Permission): preHandlerAsyncHookHandler {
  return async function (request) {
    const token = authenticate(request);
    if (!can(token.role, permission)) {
      throw new HttpError(403, `token ${token.name} is a ${token.role}: this needs a ${leastRoleWith(permission)} or above (${permission})`);
    }
  };
}

/** Checks the request's credentials (counting failures per address) and returns its token. */
export function authenticate(request: FastifyRequest): TokenRecord {
  const auth = request.server.sargeAuth;
  const retryMs = auth.limiter.retryAfterMs(request.client);
  if (retryMs > 0) {
    const seconds = Math.ceil(retryMs / 1000);
    throw new HttpError(429, `too many failed token attempts from ${request.client}: try again in ${seconds} s`, { "retry-after": String(seconds) });
  }
  const check = credentialCheck(request, auth);
  if (!check.ok) {
    if (check.presented) auth.limiter.record(request.client);
    throw new HttpError(401, check.reason);
  }
  request.who = check.token.name;
  request.token = check.token;
  return check.token;
}

/** `presented`: the request carried a credential (a guess counts against its address; a request with none does not). */
function credentialCheck(request: FastifyRequest, auth: AuthState): TokenCheck & { presented?: boolean } {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) return { ok: false, presented: true, reason: 'malformed Authorization header: send "Authorization: Bearer <token>"' };
    return { ...verifyToken(auth.paths, match[1]!), presented: true };
  }
  const session = request.cookies?.[sessionCookie];
  if (session !== undefined) {
    const hash = auth.sessions.tokenHashOf(session);
    const token = hash === null ? undefined : tokenByHash(auth.paths, hash);
    return { ...(token ? tokenUsable(token) : { ok: false, reason: "your session has ended: log in again" }), presented: true };
  }
  return { ok: false, reason: "this needs a token: send \"Authorization: Bearer <token>\" (an admin makes one with sarge token add NAME --role viewer)" };
}

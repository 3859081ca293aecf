import { clientAddress, viaTlsProxy } from "./proxy-secret.js";
import { createRequire } from "node:module";
import fastifyCookie from "@fastify/cookie";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { HomePaths } from "../home/paths.js";
import { SargeError, SupervisorNotRunningError } from "../util/errors.js";
import { openSargeLog } from "../util/sarge-log.js";
import { installAuth, type AuthOptions } from "./auth.js";
import { HttpError } from "./http-error.js";
import { ReleaseQueue } from "./queue.js";
import { deployRoutes } from "./routes/deploys.js";
import { lockRoutes } from "./routes/lock.js";
import { rollbackRoutes } from "./routes/rollback.js";
import { webhookRoutes } from "./routes/webhook.js";
import { configRoutes } from "./routes/config.js";
import { healthRoutes } from "./routes/health.js";
import { instanceRoutes } from "./routes/instances.js";
import { releaseRoutes } from "./routes/releases.js";
import { statusRoutes } from "./routes/status.js";
import { StatusCache } from "./status-cache.js";
import { dashboardRoutes } from "./dashboard/index.js";

export interface ServerTimeouts {
  /** The whole request head must arrive within this. */
  headersMs: number;
  /** A connection with no byte either way for this long is closed (slow bodies; SSE streams send heartbeats well within it). */
  idleMs: number;
  /** A request, body included, must arrive within this (a trickled body is cut). */
  requestMs: number;
}

export interface ServerOptions {
  paths: HomePaths;
  auth?: AuthOptions;
  timeouts?: Partial<ServerTimeouts>;
  /** The secret of the home's TLS HAProxy in front (src/serve/proxy-secret.ts): a request with it names its client in X-Forwarded-For. */
  proxySecret?: string;
}

export const defaultTimeouts: ServerTimeouts = { headersMs: 10_000, idleMs: 60_000, requestMs: 15 * 60_000 };

/** A route group: one file per resource under src/serve/routes/. */
export type RouteGroup = (app: FastifyInstance) => void;

const routeGroups: RouteGroup[] = [healthRoutes, statusRoutes, instanceRoutes, releaseRoutes, configRoutes];

/**
 * The `sarge serve` HTTP server on one home, not yet listening. Every error
 * is `{ "error": "<message>" }`; every request is a line in var/log/sarge.log
 * (method, path, status, who: never a body, a header or a value).
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const timeouts = { ...defaultTimeouts, ...options.timeouts };
  const app = Fastify({
    logger: false,
    connectionTimeout: timeouts.idleMs,
    requestTimeout: timeouts.requestMs,
    // Node checks the header and request deadlines on this interval (30 s by default)
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.min(1000, timeouts.headersMs) },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    schemaController: { compilersFactory: lazySchemaCompilers },
  });
  await app.register(fastifyCookie);
  installAuth(app, options.paths, options.auth);
  app.decorate("homeStatus", new StatusCache(options.paths));
  installErrorShape(app);
  installRequestLog(app, options.paths);
  app.addHook("onRequest", async (request) => {
    request.client = clientAddress(request.raw, options.proxySecret ?? null);
    request.overTls = request.protocol === "https" || viaTlsProxy(request.raw, options.proxySecret ?? null);
    refuseDotSegments(request.url);
  });
  for (const group of routeGroups) group(app);
  const queue = new ReleaseQueue(options.paths);
  deployRoutes(app, queue);
  lockRoutes(app);
  rollbackRoutes(app);
  webhookRoutes(app, queue);
  dashboardRoutes(app, queue);
  app.addHook("onReady", async () => queue.start());
  app.addHook("onClose", async () => {
    queue.close();
    app.homeStatus.close();
  });
  return app;
}

const fastifyRequire = createRequire(createRequire(import.meta.url).resolve("fastify"));

/**
 * fastify's own schema compilers (ajv, fast-json-stringify), loaded when a
 * route first declares a schema instead of with fastify: no route of the
 * server does, and they held ~1.2 MiB of heap from start.
 */
type SchemaCompilers = Required<NonNullable<NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]>>;
const lazySchemaCompilers: SchemaCompilers = {
  buildValidator: (...args) => (fastifyRequire("@fastify/ajv-compiler") as () => SchemaCompilers["buildValidator"])()(...args),
  buildSerializer: (...args) => (fastifyRequire("@fastify/fast-json-stringify-compiler") as () => SchemaCompilers["buildSerializer"])()(...args),
};

function installErrorShape(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, _request, reply) => {
    const { status, message } = describeError(error);
    if (error instanceof HttpError) void reply.headers(error.headers);
    return reply.status(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `no route ${request.method} ${request.url.split("?")[0]}: the API is under /api/v1 (docs/server.md lists it)` }),
  );
}

function describeError(error: FastifyError | Error): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.statusCode, message: error.message };
  if (error instanceof SupervisorNotRunningError) return { status: 503, message: error.message };
  if (error instanceof SargeError) return { status: 400, message: error.message };
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, message: error.message };
  return { status: 500, message: `internal error: ${error.message} (details in var/log/sarge.log)` };
}

/** A `.` or `..` path segment, spelled out or percent-encoded, is refused before routing: no name parameter ever holds one. */
function refuseDotSegments(url: string): void {
  // neither a dot nor an escape: nothing to decode or refuse (most requests)
  if (!url.includes(".") && !url.includes("%")) return;
  for (const segment of url.split("?")[0]!.split("/")) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in the path segment "${segment}"`);
    }
    if (name === "." || name === ".." || name.includes("\0")) throw new HttpError(400, `the path segment "${segment}" is not a name: paths may not hold ".", ".." or NUL`);
  }
}

function installRequestLog(app: FastifyInstance, paths: HomePaths): void {
  const log = openSargeLog(paths, "serve");
  app.addHook("onResponse", async (request, reply) => {
    log.info({ method: request.method, path: request.url.split("?")[0], status: reply.statusCode, who: request.who, ms: Math.round(reply.elapsedTime) }, "request");
  });
  app.addHook("onError", async (request, _reply, error) => {
    if (!(error instanceof HttpError || error instanceof SargeError)) log.error({ method: request.method, path: request.url.split("?")[0], err: error.message }, "request failed");
  });
}

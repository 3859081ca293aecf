import { randomBytes, timingSafeEqual } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { IncomingMessage } from "node:http";
import type { HomePaths } from "../home/paths.js";

/** The header the home's TLS HAProxy sets (templates/serve-tls.cfg.hbs), replacing any a client sent. */
export const proxySecretHeader = "x-sarge-proxy";

/**
 * The home's proxy secret (var/serve/proxy-secret, 0600, made once): the TLS
 * HAProxy sends it with every request, and only a request carrying it may
 * name its client in X-Forwarded-For. Anyone else on the machine can reach
 * the server's loopback port too, and must not choose the address the
 * failed-token limit counts against.
 */
export function proxySecret(paths: HomePaths): string {
  const file = join(paths.root, "var", "serve", "proxy-secret");
  try {
    return readFileSync(file, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
  try {
    // a link is created whole or not at all: the server and `serve --supervise` may both make it at once
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return readFileSync(file, "utf8").trim();
}

/** Whether the request came through the home's TLS HAProxy: it carries the proxy secret, which only that HAProxy sends. */
export function viaTlsProxy(request: IncomingMessage, secret: string | null): boolean {
  return secret !== null && carriesSecret(request.headers[proxySecretHeader], secret);
}

/** The client's address: X-Forwarded-For when the request came through the TLS HAProxy, else the connection's peer. */
export function clientAddress(request: IncomingMessage, secret: string | null): string {
  const forwarded = request.headers["x-forwarded-for"];
  if (typeof forwarded !== "string" || !viaTlsProxy(request, secret)) return request.socket.remoteAddress ?? "unknown";
  return forwarded.trim();
}

function carriesSecret(presented: string | string[] | undefined, secret: string): boolean {
  if (typeof presented !== "string") return false;
  const [a, b] = [Buffer.from(presented), Buffer.from(secret)];
  return a.length === b.length && timingSafeEqual(a, b);
}

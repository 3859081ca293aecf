import { isAbsolute, join } from "node:path";
import { isLoopback } from "../util/loopback.js";
import { ConfigError } from "../util/errors.js";
import { duration, parseHostPort, type ConfigReader } from "./config.js";
import type { HostPort, ServeConfig } from "./config-types.js";

export const serveParserFile = import.meta.url;

/**
 * The `serve:` block (docs/server.md). `listen` defaults to the port just
 * below port_range (a home made by sarge init has its stable ports at the
 * bottom of its block and instances from base + 10).
 */
export function readServe(read: ConfigReader, value: unknown, home: { home: string; portRange: [number, number]; portMap: Record<string, HostPort> }): ServeConfig {
  const raw = value === null ? {} : read.mapping(value, "serve");
  const serve = read.section<ServeConfig>(raw, "serve", {
    listen: ["listen", (v, k) => address(read, v, k), { host: "127.0.0.1", port: home.portRange[0] - 1 }],
    allowRemote: ["allow_remote", (v, k) => boolean(read, v, k), false],
    tls: ["tls", (v, k) => tls(read, v, k, home.home), null],
    deployTimeoutMs: ["deploy_timeout", (v, k) => duration(read, v, k), 30 * 60_000],
    idleTimeoutMs: ["idle_timeout", (v, k) => duration(read, v, k), 10 * 60_000],
    failedAuthLimit: ["failed_auth_limit", (v, k) => read.integer(v, k, 1, 1_000_000), 10],
  });
  const addresses: Array<[string, HostPort]> = [["serve.listen", serve.listen], ...(serve.tls ? [["serve.tls.listen", serve.tls.listen] as [string, HostPort]] : [])];
  for (const [key, where] of addresses) {
    if (!serve.allowRemote && !isLoopback(where.host)) {
      throw new ConfigError(
        `${read.file}: ${key}: ${where.host} is not a loopback address; the API would be reachable from other machines: set serve.allow_remote: true to mean it (and use serve.tls), or listen on 127.0.0.1`,
      );
    }
    if (where.port >= home.portRange[0] && where.port <= home.portRange[1]) {
      throw new ConfigError(`${read.file}: ${key}: port ${where.port} lies in port_range [${home.portRange[0]}, ${home.portRange[1]}], which is handed to instances: set serve.listen to a port outside it`);
    }
    const clash = Object.entries(home.portMap).find(([, stable]) => stable.port === where.port);
    if (clash) throw new ConfigError(`${read.file}: ${key}: port ${where.port} is port_map.${clash[0]}'s stable port: set ${key} to another port`);
  }
  if (serve.tls && serve.tls.listen.port === serve.listen.port) throw new ConfigError(`${read.file}: serve.tls.listen: port ${serve.listen.port} is serve.listen's: HAProxy needs a port of its own`);
  return serve;
}

function address(read: ConfigReader, value: unknown, key: string): HostPort {
  return parseHostPort(value) ?? read.fail(key, '"host:port" or a port number', value);
}

function boolean(read: ConfigReader, value: unknown, key: string): boolean {
  if (typeof value !== "boolean") read.fail(key, "true or false", value);
  return value;
}

function tls(read: ConfigReader, value: unknown, key: string, home: string): ServeConfig["tls"] {
  if (value === null) return null;
  const fields = read.section<{ cert: string; key: string; listen: HostPort | null }>(value, key, {
    cert: ["cert", read.string, ""],
    key: ["key", read.string, ""],
    listen: ["listen", (v, k) => address(read, v, k), null],
  });
  if (fields.cert === "" || fields.key === "" || fields.listen === null) read.fail(key, "cert, key (PEM files) and listen (the HTTPS address HAProxy binds)", value);
  const absolute = (path: string): string => (isAbsolute(path) ? path : join(home, path));
  return { cert: absolute(fields.cert), key: absolute(fields.key), listen: fields.listen };
}

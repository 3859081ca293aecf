import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../util/atomic-file.js";
import { ConfigError } from "../util/errors.js";
import { processTypePattern } from "../procfile/parse.js";
import { readWebhook, webhookParserFile } from "./config-webhook.js";
import { parseDuration, parseSize } from "./duration.js";
import type { HostPort, SargeConfig, SupervisorKind } from "./config-types.js";
import { readServe, serveParserFile } from "./config-serve.js";
import { processesParserFile, readProcesses } from "./config-processes.js";
import type { HomePaths } from "./paths.js";

const envKeyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
const require = createRequire(import.meta.url);

/** yaml costs ~80 ms of start-up; a command whose config is cached (below) never loads it. */
function yaml(): typeof import("yaml") {
  return require("yaml") as typeof import("yaml");
}

export type Reader<T> = (value: unknown, key: string) => T;

/** Reads one key's value or throws naming the file, the key and what was expected. */
export class ConfigReader {
  constructor(readonly file: string) {}

  fail(key: string, expected: string, value: unknown): never {
    throw new ConfigError(`${this.file}: ${key}: expected ${expected}, got ${describe(value)}`);
  }

  integer(value: unknown, key: string, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.fail(key, `a whole number from ${min} to ${max}`, value);
    }
    return value;
  }

  port = (value: unknown, key: string): number => this.integer(value, key, 1, 65535);

  string = (value: unknown, key: string): string => {
    if (typeof value !== "string" || value === "") this.fail(key, "a non-empty string", value);
    return value;
  };

  mapping(value: unknown, key: string): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(key, "a mapping", value);
    return value as Record<string, unknown>;
  }

  section<T>(value: unknown, key: string, fields: { [K in keyof T]: [string, Reader<T[K]>, T[K]] }): T {
    const raw = value === undefined || value === null ? {} : this.mapping(value, key);
    const yamlNames = Object.values(fields).map((field) => (field as [string])[0]);
    for (const name of Object.keys(raw)) {
      if (!yamlNames.includes(name)) this.unknown(`${key}.${name}`, yamlNames);
    }
    const result = {} as T;
    for (const [prop, [name, read, fallback]] of Object.entries(fields) as Array<[keyof T, [string, Reader<unknown>, unknown]]>) {
      result[prop] = (raw[name] === undefined ? fallback : read(raw[name], `${key}.${name}`)) as T[keyof T];
    }
    return result;
  }

  unknown(key: string, known: string[]): never {
    throw new ConfigError(`${this.file}: unknown key '${key}' (known keys: ${known.join(", ")})`);
  }
}

const topLevelKeys = [
  "port_range",
  "port_map",
  "env",
  "haproxy_bin",
  "python",
  "dist",
  "supervisor",
  "keep_releases",
  "health",
  "notify",
  "logs",
  "archive",
  "webhook",
  "serve",
  "processes",
];

/** Load and validate etc/sarge.yaml. Every problem is a ConfigError naming the file and the key. */
export function loadConfig(paths: HomePaths): SargeConfig {
  let text: string;
  try {
    text = readFileSync(paths.config, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ConfigError(
        `${paths.config} does not exist: ${paths.root} is not a sarge home (create one with \`sarge init ${paths.root}\`)`,
      );
    }
    throw new ConfigError(`${paths.config} cannot be read: ${(error as Error).message}`);
  }
  return cachedParse(paths, text);
}

/**
 * The validated config, cached in var/run keyed by a hash of the file's bytes,
 * the home and this parser's own source, so the cache can never be stale:
 * any edit, or a new sarge, parses again.
 */
function cachedParse(paths: HomePaths, text: string): SargeConfig {
  const key = createHash("sha256").update(configParserIdentity()).update(paths.root).update("\0").update(text).digest("hex");
  const cacheFile = join(paths.run, "config-cache.json");
  try {
    const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as { key: string; config: SargeConfig };
    if (cached.key === key) return cached.config;
  } catch {
    // no cache yet, or an unreadable one: parse
  }
  const config = parseConfig(text, paths.config, paths.root);
  try {
    writeFileAtomic(cacheFile, JSON.stringify({ key, config }), 0o600);
  } catch {
    // a read-only or missing var/run only costs the next command a parse
  }
  return config;
}

/** Set in a CLI bundle by scripts/bundle-cli.ts to configParserIdentity() of the modules it bundled, whose files a bundle does not have. */
declare const SARGE_CONFIG_PARSER_IDENTITY: string | undefined;

let identity: string | undefined;
/** The code that turns YAML into SargeConfig: this module and the parsers it calls (config-webhook.ts, config-serve.ts, config-processes.ts). */
export function configParserIdentity(): string {
  identity ??=
    typeof SARGE_CONFIG_PARSER_IDENTITY === "string"
      ? SARGE_CONFIG_PARSER_IDENTITY
      : createHash("sha256")
          .update(readFileSync(fileURLToPath(import.meta.url)))
          .update(readFileSync(fileURLToPath(webhookParserFile)))
          .update(readFileSync(fileURLToPath(serveParserFile)))
          .update(readFileSync(fileURLToPath(processesParserFile)))
          .update(parseDuration.toString() + parseSize.toString())
          .digest("hex");
  return identity;
}

export function parseConfig(text: string, file: string, home: string): SargeConfig {
  const document = yaml().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = first.linePos?.[0]?.line;
    throw new ConfigError(`${file}: not valid YAML${line ? ` (line ${line})` : ""}: ${first.message.split("\n")[0]}`);
  }
  const read = new ConfigReader(file);
  const raw = toPlain(document, file) ?? {};
  const top = read.mapping(raw, "(top level)");
  for (const key of Object.keys(top)) if (!topLevelKeys.includes(key)) read.unknown(key, topLevelKeys);

  if (top.port_range === undefined) read.fail("port_range", "[low, high] port numbers", undefined);
  const portRange = readPortRange(read, top.port_range);
  const portMap = readPortMap(read, top.port_map);
  for (const [proc, address] of Object.entries(portMap)) {
    if (address.port >= portRange[0] && address.port <= portRange[1]) {
      throw new ConfigError(
        `${file}: port_map.${proc}: port ${address.port} overlaps port_range [${portRange[0]}, ${portRange[1]}]; stable ports must lie outside the range handed to instances`,
      );
    }
  }
  const supervisorKind = readSupervisor(read, top.supervisor ?? "builtin");
  const dist = top.dist === undefined ? "dist" : read.string(top.dist, "dist");
  const keepReleases = top.keep_releases === undefined ? 3 : read.integer(top.keep_releases, "keep_releases", 0, 1000);

  return {
    portRange,
    portMap,
    env: readEnv(read, top.env, (key) => {
      const node = document.getIn(["env", key], true);
      return yaml().isScalar(node) ? node.source : undefined;
    }),
    haproxyBin: top.haproxy_bin === undefined ? "haproxy" : read.string(top.haproxy_bin, "haproxy_bin"),
    python: top.python === undefined ? "python3" : read.string(top.python, "python"),
    dist: isAbsolute(dist) ? dist : join(home, dist),
    supervisor: supervisorKind,
    keepReleases,
    health: read.section(top.health, "health", {
      timeoutMs: ["timeout", (v, k) => duration(read, v, k), 30_000],
      httpPath: ["http_path", (v, k) => httpPath(read, v, k), null],
    }),
    notify: readNotify(read, top.notify),
    logs: read.section(top.logs, "logs", {
      maxBytes: ["max_bytes", (v, k) => size(read, v, k), 10 * 1024 ** 2],
      keep: ["keep", (v, k) => read.integer(v, k, 1, 100), 5],
    }),
    archive: read.section(top.archive, "archive", {
      maxBytes: ["max_bytes", (v, k) => size(read, v, k), 1024 ** 3],
      maxEntries: ["max_entries", (v, k) => read.integer(v, k, 1, 10_000_000), 100_000],
      maxNameLength: ["max_name_length", (v, k) => read.integer(v, k, 1, 4096), 1024],
    }),
    webhook: readWebhook(read, top.webhook),
    serve: top.serve === undefined ? null : readServe(read, top.serve, { home, portRange, portMap }),
    processes: readProcesses(read, top.processes),
  };
}

/** yaml's own cap on alias expansion turns a "billion laughs" file into a ReferenceError; here it is a config error. */
function toPlain(document: import("yaml").Document, file: string): unknown {
  try {
    return document.toJS();
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      throw new ConfigError(`${file}: not valid YAML: too many alias references (a document that expands exponentially)`);
    }
    throw error;
  }
}

function readSupervisor(read: ConfigReader, value: unknown): SupervisorKind {
  if (value !== "builtin" && value !== "supervisord") read.fail("supervisor", "builtin or supervisord", value);
  return value;
}

function readPortRange(read: ConfigReader, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) read.fail("port_range", "[low, high] port numbers", value);
  const low = read.port(value[0], "port_range[0]");
  const high = read.port(value[1], "port_range[1]");
  if (low > high) read.fail("port_range", "low <= high", value);
  return [low, high];
}

function readPortMap(read: ConfigReader, value: unknown): Record<string, HostPort> {
  if (value === undefined || value === null) return {};
  const map: Record<string, HostPort> = {};
  const seen = new Map<string, string>();
  for (const [proc, address] of Object.entries(read.mapping(value, "port_map"))) {
    if (!processTypePattern.test(proc)) read.fail(`port_map.${proc}`, "a process type name of letters, digits, _ and -", proc);
    const parsed = parseHostPort(address);
    if (!parsed) read.fail(`port_map.${proc}`, '"host:port" or a port number', address);
    const id = `${parsed.host}:${parsed.port}`;
    if (seen.has(id)) throw new ConfigError(`${read.file}: port_map.${proc}: ${id} is already used by port_map.${seen.get(id)}`);
    seen.set(id, proc);
    map[proc] = parsed;
  }
  return map;
}

export function parseHostPort(value: unknown): HostPort | null {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 && value < 65536 ? { host: "127.0.0.1", port: value } : null;
  if (typeof value !== "string") return null;
  // a host name or IPv4 address: sarge connects to the stable address to check it, which `*` and IPv6 forms break
  const match = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  if (!match) return null;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1]!, port } : null;
}

/** `written(key)`: a scalar's text as written in the file, for values YAML would turn into numbers or booleans. */
function readEnv(read: ConfigReader, value: unknown, written: (key: string) => string | undefined): Record<string, string> {
  if (value === undefined || value === null) return {};
  const env: Record<string, string> = {};
  for (const [key, raw] of Object.entries(read.mapping(value, "env"))) {
    if (!envKeyPattern.test(key)) read.fail(`env.${key}`, "a variable name of letters, digits and _ not starting with a digit", key);
    if (typeof raw === "string") env[key] = raw;
    // as written: 1.10 stays "1.10" (not "1.1"), 0x1F stays "0x1F" (not "31")
    else if (typeof raw === "number" || typeof raw === "boolean") env[key] = written(key) ?? String(raw);
    else if (raw === null) throw new ConfigError(`${read.file}: env.${key}: no value; write ${key}: "" for an empty one`);
    // the value itself is never echoed: env holds secrets
    else throw new ConfigError(`${read.file}: env.${key}: expected a string, number or boolean, got ${Array.isArray(raw) ? "a list" : "a mapping"}`);
  }
  return env;
}

function readNotify(read: ConfigReader, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) read.fail("notify", "a list of http(s) URLs", value);
  return value.map((url, index) => {
    if (typeof url !== "string" || !/^https?:\/\/\S+$/.test(url)) read.fail(`notify[${index}]`, "an http(s) URL", url);
    return url;
  });
}

export function duration(read: ConfigReader, value: unknown, key: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) read.fail(key, 'a duration like "30s", "500ms" or "2m"', value);
  return ms;
}

function size(read: ConfigReader, value: unknown, key: string): number {
  const bytes = parseSize(value);
  if (bytes === null) read.fail(key, 'a size like "10MB", "512KB" or a number of bytes', value);
  return bytes;
}

function httpPath(read: ConfigReader, value: unknown, key: string): string | null {
  if (value === null) return null;
  if (typeof value !== "string" || !value.startsWith("/")) read.fail(key, 'null or a path starting with "/"', value);
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value) ?? String(value);
}

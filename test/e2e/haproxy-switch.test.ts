/**
 * Real HAProxy, real sockets: blue/green switches under continuous load
 * (keep-alive and connection-per-request clients), then reloads.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import getPort from "get-port";
import { waitFor } from "../support/wait.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SargeError } from "../../src/util/errors.js";
import { homePaths } from "../../src/home/paths.js";
import { applyHaproxyConfig, type ApplyResult } from "../../src/haproxy/apply.js";
import { haproxyProgram } from "../../src/haproxy/program.js";
import { reloadHaproxy, type ReloadResult } from "../../src/haproxy/reload.js";
import { afterSwitch, idleSlot, routesFromRuntime } from "../../src/haproxy/routes.js";
import { readRuntimeListens } from "../../src/haproxy/runtime.js";
import { switchSlot, type SwitchResult } from "../../src/haproxy/switch.js";
import type { ListenRoute } from "../../src/haproxy/types.js";
import { waitForHaproxy } from "../../src/haproxy/wait.js";

const HOST = "127.0.0.1";
/** Switches under load (5 by default; raise it to measure, e.g. SARGE_HAPROXY_SWITCHES=40). */
const SWITCHES = Math.max(2, Number(process.env.SARGE_HAPROXY_SWITCHES ?? 5));
const LAST = `v${SWITCHES + 1}`;

/** Wall-clock ms with sub-ms precision, comparable between threads. */
const now = () => performance.timeOrigin + performance.now();

interface Sample {
  start: number;
  end: number;
  mode: "keep-alive" | "close";
  version: string | null;
  error: string | null;
}

/**
 * The traffic side runs in its own thread (as backends and clients run in
 * their own processes in real life), so that switch timings are not measured
 * on an event loop saturated by the load generator. Backends answer with
 * their version id, some after a few ms so that drains have running requests
 * to wait for; clients loop on the stable port, keep-alive and
 * connection-per-request.
 */
const TRAFFIC_THREAD = `
const { parentPort } = require("node:worker_threads");
const http = require("node:http");
const { performance } = require("node:perf_hooks");
const now = () => performance.timeOrigin + performance.now();
const HOST = "127.0.0.1";
const backends = new Map();
let load = null;

function request(port, agent) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: "/", agent, headers: agent === false ? { connection: "close" } : {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error("HTTP " + res.statusCode + ": " + body.trim()))));
      res.on("error", reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const handlers = {
  async backend({ version }) {
    const hits = [];
    const server = http.createServer((_req, res) => {
      hits.push(now());
      const reply = () => { res.setHeader("content-type", "text/plain"); res.end(version); };
      if (Math.random() < 0.3) setTimeout(reply, 1 + Math.floor(Math.random() * 5)); else reply();
    });
    await new Promise((resolve, reject) => { server.once("error", reject); server.listen(0, HOST, resolve); });
    backends.set(version, { server, hits });
    return { port: server.address().port };
  },
  async hits({ version }) {
    return { hits: backends.get(version).hits };
  },
  async get({ port }) {
    return { body: await request(port, false) };
  },
  async startLoad({ port, keepAlive, close }) {
    const samples = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: keepAlive });
    const state = { stopped: false };
    const loop = async (mode) => {
      while (!state.stopped) {
        const start = now();
        try {
          const version = await request(port, mode === "keep-alive" ? agent : false);
          samples.push({ start, end: now(), mode, version, error: null });
        } catch (error) {
          samples.push({ start, end: now(), mode, version: null, error: error.message });
        }
      }
    };
    const loops = [...Array.from({ length: keepAlive }, () => loop("keep-alive")), ...Array.from({ length: close }, () => loop("close"))];
    load = { samples, agent, state, loops };
    return {};
  },
  async count() {
    return { count: load ? load.samples.length : 0 };
  },
  async stopLoad() {
    load.state.stopped = true;
    await Promise.all(load.loops);
    load.agent.destroy();
    const samples = load.samples;
    load = null;
    return { samples };
  },
  async close() {
    for (const { server } of backends.values()) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    return {};
  },
};

parentPort.on("message", async ({ id, cmd, args }) => {
  try {
    parentPort.postMessage({ id, result: await handlers[cmd](args) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message) });
  }
});
`;

class Traffic {
  private readonly worker = new Worker(TRAFFIC_THREAD, { eval: true });
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor() {
    this.worker.on("message", ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (error !== undefined) p?.reject(new Error(error));
      else p?.resolve(result);
    });
  }

  private call<T>(cmd: string, args: object = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, cmd, args });
    });
  }

  async backend(version: string): Promise<number> {
    return (await this.call<{ port: number }>("backend", { version })).port;
  }
  async hits(version: string): Promise<number[]> {
    return (await this.call<{ hits: number[] }>("hits", { version })).hits;
  }
  async get(port: number): Promise<string> {
    return (await this.call<{ body: string }>("get", { port })).body;
  }
  startLoad(port: number, keepAlive = 3, close = 3): Promise<void> {
    return this.call("startLoad", { port, keepAlive, close });
  }
  async count(): Promise<number> {
    return (await this.call<{ count: number }>("count")).count;
  }
  async stopLoad(): Promise<Sample[]> {
    return (await this.call<{ samples: Sample[] }>("stopLoad")).samples;
  }
  async close(): Promise<void> {
    await this.call("close");
    await this.worker.terminate();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function failures(samples: Sample[]): Sample[] {
  return samples.filter((s) => s.error !== null);
}

describe("HAProxy blue/green switching (real haproxy)", () => {
  const root = mkdtempSync(join(tmpdir(), "sarge-haproxy-e2e-"));
  const paths = homePaths(root);
  const traffic = new Traffic();
  /** version id -> backend port */
  const backends = new Map<string, number>();
  const extraServers: TcpServer[] = [];
  let haproxy: ChildProcess | null = null;
  let haproxyOutput = "";
  let stablePort = 0;
  /** What the running HAProxy serves, as last applied. */
  let routes: ListenRoute[] = [];
  /** When each retired version's drain completed (wall-clock ms). */
  const retiredAt = new Map<string, number>();

  const startBackend = async (version: string) => {
    const port = await traffic.backend(version);
    backends.set(version, port);
    return port;
  };
  const versionOn = (port: number) => [...backends].find(([, p]) => p === port)![0];

  async function lateArrivals(): Promise<Record<string, number>> {
    const late: Record<string, number> = {};
    for (const [version, at] of retiredAt) late[version] = (await traffic.hits(version)).filter((t) => t > at).length;
    return late;
  }

  /** Resolves once the load has sent `count` more requests. */
  async function moreRequests(count: number): Promise<void> {
    const target = (await traffic.count()) + count;
    await waitFor(async () => (await traffic.count()) >= target, `${count} more requests`, 20_000);
  }

  /** Load before, during and after `during`, and at least `minRequests` in all. */
  async function runLoad(during: () => Promise<void>, minRequests = 0): Promise<Sample[]> {
    await traffic.startLoad(stablePort);
    await moreRequests(200);
    await during();
    await moreRequests(300);
    await waitFor(async () => (await traffic.count()) >= minRequests, `${minRequests} requests in all`, 20_000).catch(() => undefined);
    return traffic.stopLoad();
  }

  beforeAll(async () => {
    mkdirSync(paths.log, { recursive: true });
    stablePort = await getPort({ host: HOST });
    const v1 = await startBackend("v1");
    routes = [{ proc: "web", bind: { host: HOST, port: stablePort }, blue: v1, green: null, active: "blue" }];
    // First start: every stable address must be free, nothing to reload.
    const first = await applyHaproxyConfig(paths, "haproxy", routes, null);
    expect(first.reload).toBeNull();

    // Run it exactly as the supervisor will: /bin/sh -c <command>, own process group.
    const spec = haproxyProgram(paths, "haproxy");
    haproxy = spawn("/bin/sh", ["-c", spec.command], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    haproxy.stdout!.on("data", (d: Buffer) => (haproxyOutput += d.toString()));
    haproxy.stderr!.on("data", (d: Buffer) => (haproxyOutput += d.toString()));
    await waitForHaproxy(paths, { timeoutMs: 10_000, binds: [routes[0]!.bind] });
    expect(await traffic.get(stablePort)).toBe("v1");
  });

  afterAll(async () => {
    const child = haproxy;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        process.kill(child.pid!, "SIGUSR1"); // soft stop, as the supervisor does
      } catch {
        /* already gone */
      }
      const soft = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!soft) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* already gone */
        }
        await exited;
      }
    }
    await traffic.close();
    await Promise.all(extraServers.map((s) => new Promise((r) => s.close(r))));
    rmSync(root, { recursive: true, force: true });
    if (process.env.SARGE_TEST_VERBOSE) console.log(haproxyOutput);
  });

  it("switches blue→green→blue… (5 times) under load: no failed request, nothing reaches a drained version", async () => {
    const switches: SwitchResult[] = [];
    const samples = await runLoad(async () => {
      for (let i = 2; i <= SWITCHES + 1; i++) {
        const port = await startBackend(`v${i}`);
        const web = routes[0]!;
        const oldVersion = versionOn(web[web.active!]!);
        const slot = idleSlot(web);
        const result = await switchSlot(paths, "web", slot, port);
        retiredAt.set(oldVersion, now());
        switches.push(result);
        expect(result).toMatchObject({ to: slot, from: web.active, port, drained: true });
        // Record the post-switch state in the config file: no reload for a slot change.
        const after = [afterSwitch(web, slot, port)];
        const applied = await applyHaproxyConfig(paths, "haproxy", after, routes);
        expect(applied.reload).toBeNull();
        routes = after;
        if (i <= SWITCHES) await moreRequests(300);
      }
    }, 2_000);

    const failed = failures(samples);
    const byMode = (m: Sample["mode"]) => samples.filter((s) => s.mode === m).length;
    const durationS = (samples.at(-1)!.end - samples[0]!.start) / 1000;
    const ms = (values: number[]) => values.map((v) => v.toFixed(1)).join(", ");
    console.log(
      `switch: ${samples.length} requests in ${durationS.toFixed(1)} s (${byMode("keep-alive")} keep-alive, ${byMode("close")} connection-per-request), ` +
        `${failed.length} failed; switch total ms [${ms(switches.map((s) => s.totalMs))}] median ${median(switches.map((s) => s.totalMs)).toFixed(1)}; ` +
        `to ready median ${median(switches.map((s) => s.readyMs)).toFixed(1)}; drain median ${median(switches.map((s) => s.drainedMs)).toFixed(1)}`,
    );
    expect(failed.slice(0, 5)).toEqual([]);
    expect(samples.length).toBeGreaterThanOrEqual(2_000);
    expect(byMode("keep-alive")).toBeGreaterThan(200);
    expect(byMode("close")).toBeGreaterThan(200);

    // No request reached a retired backend after its drain completed...
    const retired = [...retiredAt.keys()];
    expect(retired).toHaveLength(SWITCHES);
    expect(await lateArrivals()).toEqual(Object.fromEntries(retired.map((v) => [v, 0])));
    // ...and no request started after that was answered by it.
    for (const [version, at] of retiredAt) {
      expect({ version, late: samples.filter((s) => s.version === version && s.start > at).length }).toEqual({ version, late: 0 });
    }
    // Every version served while it was active, and the last one serves now.
    expect(new Set(samples.map((s) => s.version))).toEqual(new Set([...backends.keys()]));
    expect(await traffic.get(stablePort)).toBe(LAST);
  });

  it("refuses to re-point the slot that is serving; repeating the last switch does nothing", async () => {
    const web = routes[0]!;
    await expect(switchSlot(paths, "web", web.active!, 1234)).rejects.toThrow(/is the slot serving traffic/);
    const again = await switchSlot(paths, "web", web.active!, web[web.active!]!);
    expect(again).toMatchObject({ from: null, drained: true, readyMs: 0 });
    expect(routesFromRuntime(await readRuntimeListens(paths), { web: web.bind })).toEqual(routes);
    expect(await traffic.get(stablePort)).toBe(LAST);
  });

  it("a reload from the rewritten config reproduces the runtime state and keeps routing to the new version", async () => {
    const before = await readRuntimeListens(paths);
    expect(routesFromRuntime(before, { web: routes[0]!.bind })).toEqual(routes);
    let reload: ReloadResult | undefined;
    let reloadedAt = 0;
    const samples = await runLoad(async () => {
      reload = await reloadHaproxy(paths);
      reloadedAt = now();
    });
    console.log(`reload under load: ${samples.length} requests, ${failures(samples).length} failed, new worker answering in ${reload!.ms.toFixed(0)} ms`);
    expect(reload!.previousWorkers).not.toContain(reload!.workerPid);
    expect(await readRuntimeListens(paths)).toEqual(before);
    expect(failures(samples).slice(0, 5)).toEqual([]);
    const afterReload = samples.filter((s) => s.start > reloadedAt);
    expect(afterReload.length).toBeGreaterThan(0);
    expect(afterReload.filter((s) => s.version !== LAST)).toEqual([]);
    expect(Object.values(await lateArrivals()).every((n) => n === 0)).toBe(true);
  });

  it("adding a stable port reloads HAProxy, which then serves both", async () => {
    const w1 = await startBackend("w1");
    const workerPort = await getPort({ host: HOST });
    const next: ListenRoute[] = [...routes, { proc: "worker", bind: { host: HOST, port: workerPort }, blue: w1, green: null, active: "blue" }];
    let applied: ApplyResult | undefined;
    const samples = await runLoad(async () => {
      applied = await applyHaproxyConfig(paths, "haproxy", next, routes);
    });
    routes = next;
    console.log(`reload adding a port, under load: ${samples.length} requests, ${failures(samples).length} failed`);
    expect(applied!.reload).not.toBeNull();
    expect(failures(samples).slice(0, 5)).toEqual([]);
    expect(await traffic.get(workerPort)).toBe("w1");
    expect(await traffic.get(stablePort)).toBe(LAST);
    expect(routesFromRuntime(await readRuntimeListens(paths), { web: routes[0]!.bind, worker: routes[1]!.bind })).toEqual(routes);
  });

  it("refuses a new stable port that is already taken, before touching the config or HAProxy", async () => {
    const takenPort = await getPort({ host: HOST });
    const squatter = createTcpServer();
    extraServers.push(squatter);
    await new Promise<void>((r) => squatter.listen(takenPort, HOST, r));
    const configBefore = readFileSync(paths.haproxyCfg, "utf8");
    const next: ListenRoute[] = [...routes, { proc: "clash", bind: { host: HOST, port: takenPort }, blue: null, green: null, active: null }];
    const error = await applyHaproxyConfig(paths, "haproxy", next, routes).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SargeError);
    expect((error as Error).message).toBe(`the stable address ${HOST}:${takenPort} of "clash" is already in use by another program`);
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(configBefore);
    expect(await traffic.get(stablePort)).toBe(LAST);
  });
});

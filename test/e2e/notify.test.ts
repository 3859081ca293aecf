import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFY_TIMEOUT_MS } from "../../src/release/notify.js";
import { helloVersion } from "../support/apps.js";
import { createTestHome, type TestHome } from "../support/home.js";

interface Hook {
  server: Server;
  port: number;
  sockets: Set<Socket>;
}

function listen(handler: (req: IncomingMessage, body: string) => boolean): Promise<Hook> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      if (handler(req, body)) res.end("ok");
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port, sockets })));
}

describe("deploy and rollback notifications", () => {
  let home: TestHome;
  let good: Hook;
  let hanging: Hook;
  const events: Array<Record<string, unknown>> = [];
  const setNotify = (urls: string[]) => {
    const text = readFileSync(home.paths.config, "utf8").replace(/\nnotify:[\s\S]*$/, "\n");
    writeFileSync(home.paths.config, `${text}notify:\n${urls.map((url) => `  - ${url}\n`).join("")}`);
  };

  beforeAll(async () => {
    good = await listen((_req, body) => {
      events.push(JSON.parse(body));
      return true;
    });
    hanging = await listen(() => false);
    home = await createTestHome({ extraConfig: `notify:\n  - http://127.0.0.1:${good.port}/hooks/SECRET\n` });
    await home.startSupervisor();
  });

  afterAll(async () => {
    for (const hook of [good, hanging]) {
      for (const socket of hook.sockets) socket.destroy();
      hook.server.close();
    }
    expect(await home.destroy()).toEqual([]);
  });

  it("posts deploy.started, deploy.succeeded, deploy.failed and rollback.succeeded", async () => {
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("v1") })).code).toBe(0);
    expect((await home.sarge(["deploy", "-", "web", "worker"], { input: helloVersion("v2") })).code).toBe(1);
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("v3") })).code).toBe(0);
    expect((await home.sarge(["rollback", "web"])).code).toBe(0);
    expect(events.map((event) => `${event.kind} ${event.release}`)).toEqual([
      "deploy.started 1",
      "deploy.succeeded 1",
      "deploy.started 2",
      "deploy.failed 2",
      "deploy.started 3",
      "deploy.succeeded 3",
      "rollback.succeeded 4",
    ]);
    expect(events[1]).toMatchObject({ procs: ["web"], instances: [expect.stringMatching(/^web-/)], text: expect.stringContaining("deployed release 1") });
    expect(events[3]).toMatchObject({ procs: ["web", "worker"], error: expect.stringContaining("worker") });
    expect(events[6]).toMatchObject({ instances: [(events[1]!.instances as string[])[0]], durationMs: expect.any(Number) });
    expect(readFileSync(home.paths.sargeLog, "utf8")).not.toContain("SECRET");
  });

  it("a hanging and a refusing endpoint add at most the timeout to a deploy, which still succeeds", async () => {
    /** How much longer the command took than the deploy it reports (node start, lock, the last notification). */
    const overhead = async (version: string) => {
      const started = Date.now();
      const result = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion(version) });
      expect(result.code, result.stderr).toBe(0);
      return { result, ms: Date.now() - started - (JSON.parse(result.stdout) as { durationMs: number }).durationMs };
    };
    const baseline = await overhead("v4");
    setNotify([`http://127.0.0.1:${hanging.port}/`, "http://127.0.0.1:1/", `http://127.0.0.1:${good.port}/`]);
    events.length = 0;
    const { result, ms } = await overhead("v5");
    expect(result.stderr).toMatch(/warning: notification deploy.succeeded to notify\[0\] .* failed: no answer within 2s/);
    expect(result.stderr).toMatch(/warning: notification deploy.succeeded to notify\[1\] .* failed: ECONNREFUSED/);
    expect(ms - baseline.ms).toBeLessThan(NOTIFY_TIMEOUT_MS + 1000);
    expect(events.map((event) => event.kind)).toEqual(["deploy.started", "deploy.succeeded"]);
  });
});

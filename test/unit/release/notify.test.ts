import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFY_TIMEOUT_MS, notify, notifyLabel, notifyText, type NotifyEvent } from "../../../src/release/notify.js";
import type { SargeLog } from "../../../src/util/sarge-log.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

/** A pino logger whose lines land in `lines`, as sarge.log's would. */
function memoryLog(): { log: SargeLog; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port, sockets })));
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const event: NotifyEvent = {
  kind: "deploy.succeeded",
  release: 7,
  procs: ["web", "worker"],
  instances: ["web-k3x9qa", "worker-a1b2c3"],
  commit: "0123456789abcdef0123456789abcdef01234567",
  user: "deployer",
  host: "app1",
  durationMs: 12_345,
};

describe("notify", () => {
  const received: Received[] = [];
  let ok: Awaited<ReturnType<typeof listen>>;
  let hanging: Awaited<ReturnType<typeof listen>>;
  let failing: Awaited<ReturnType<typeof listen>>;
  let deadPort: number;

  beforeAll(async () => {
    ok = await listen((req, res) => {
      let text = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (text += chunk));
      req.on("end", () => {
        received.push({ path: req.url ?? "", headers: req.headers, body: JSON.parse(text) });
        res.end("ok");
      });
    });
    // Accepts the connection and the request, never answers.
    hanging = await listen(() => undefined);
    failing = await listen((req, res) => {
      req.resume();
      res.statusCode = 500;
      res.end("boom");
    });
    deadPort = await closedPort();
  });

  afterAll(async () => {
    for (const { server, sockets } of [ok, hanging, failing]) {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("POSTs JSON with a Slack-compatible text and the structured fields", async () => {
    received.length = 0;
    const { log, lines } = memoryLog();
    await notify({ config: { notify: [`http://127.0.0.1:${ok.port}/hooks/T000/SECRET?token=abc`] }, log }, event);
    expect(received).toHaveLength(1);
    const [got] = received;
    expect(got!.path).toBe("/hooks/T000/SECRET?token=abc");
    expect(got!.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(got!.body).toEqual({
      ...event,
      text: "sarge: deployer@app1 deployed release 7 (commit 0123456789ab): web-k3x9qa, worker-a1b2c3 in 12.3s",
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(lines).toEqual([expect.objectContaining({ level: 30, notify: `notify[0] http://127.0.0.1:${ok.port}/…`, kind: "deploy.succeeded", status: 200 })]);
    expect(JSON.stringify(lines)).not.toContain("SECRET");
  });

  it("sends every event kind with a text that names it", async () => {
    received.length = 0;
    const { log } = memoryLog();
    const kinds: Array<[NotifyEvent["kind"], Partial<NotifyEvent>]> = [
      ["deploy.started", { instances: [], durationMs: undefined }],
      ["deploy.succeeded", {}],
      ["deploy.failed", { error: "deploy failed at readiness: web-k3x9qa exited with code 1\nmore detail" }],
      ["rollback.succeeded", { procs: ["web"], instances: ["web-zzzzzz"] }],
      ["rollback.failed", { procs: ["web"], instances: ["web-zzzzzz"], error: "deploy failed at start: no" }],
    ];
    for (const [kind, changes] of kinds) {
      await notify({ config: { notify: [`http://127.0.0.1:${ok.port}/`] }, log }, { ...event, ...changes, kind });
    }
    expect(received.map((r) => [r.body.kind, r.body.text])).toEqual([
      ["deploy.started", "sarge: deployer@app1 is deploying release 7 (web, worker) (commit 0123456789ab)"],
      ["deploy.succeeded", "sarge: deployer@app1 deployed release 7 (commit 0123456789ab): web-k3x9qa, worker-a1b2c3 in 12.3s"],
      ["deploy.failed", "sarge: deploy of release 7 (web, worker) by deployer@app1 FAILED in 12.3s: deploy failed at readiness: web-k3x9qa exited with code 1"],
      ["rollback.succeeded", "sarge: deployer@app1 rolled web back to web-zzzzzz (commit 0123456789ab) as release 7 in 12.3s"],
      ["rollback.failed", "sarge: rollback of web by deployer@app1 (release 7) FAILED in 12.3s: deploy failed at start: no"],
    ]);
    // the full error stays in the structured field
    expect(received[2]!.body.error).toBe("deploy failed at readiness: web-k3x9qa exited with code 1\nmore detail");
  });

  it("returns within the timeout with a refusing and a hanging endpoint, still delivering to the good one, and logs both without secrets", async () => {
    received.length = 0;
    const { log, lines } = memoryLog();
    const reported: string[] = [];
    const urls = [
      `http://127.0.0.1:${deadPort}/dead/SECRET1`,
      `http://user:SECRET2@127.0.0.1:${hanging.port}/hang`,
      `http://127.0.0.1:${ok.port}/fine`,
      `http://127.0.0.1:${failing.port}/fail?key=SECRET3`,
    ];
    const started = Date.now();
    await notify({ config: { notify: urls }, log, reporter: { line: (text) => reported.push(text), progress: () => undefined } }, event);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(NOTIFY_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(NOTIFY_TIMEOUT_MS + 500);
    expect(received.map((r) => r.path)).toEqual(["/fine"]);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings.map((line) => [line.notify, line.problem])).toEqual(
      expect.arrayContaining([
        [`notify[0] http://127.0.0.1:${deadPort}/…`, expect.stringMatching(/^ECONNREFUSED/)],
        [`notify[1] http://127.0.0.1:${hanging.port}/…`, "no answer within 2s"],
        [`notify[3] http://127.0.0.1:${failing.port}/…`, "HTTP 500"],
      ]),
    );
    expect(warnings).toHaveLength(3);
    expect(reported).toHaveLength(3);
    expect(JSON.stringify({ lines, reported })).not.toMatch(/SECRET|user:/);
  });

  it("a refused endpoint alone returns at once, and a custom timeout is honoured", async () => {
    const { log } = memoryLog();
    let started = Date.now();
    await notify({ config: { notify: [`http://127.0.0.1:${deadPort}/`] }, log }, event);
    expect(Date.now() - started).toBeLessThan(500);
    started = Date.now();
    await notify({ config: { notify: [`http://127.0.0.1:${hanging.port}/`] }, log }, event, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(800);
  });

  it("does nothing without URLs, and never throws even when logging does", async () => {
    const throwing = {
      info: () => {
        throw new Error("log broken");
      },
      warn: () => {
        throw new Error("log broken");
      },
    } as unknown as SargeLog;
    await expect(notify({ config: { notify: [] }, log: throwing }, event)).resolves.toBeUndefined();
    await expect(notify({ config: { notify: [`http://127.0.0.1:${deadPort}/`, "ftp://example.com/x"] }, log: throwing }, event)).resolves.toBeUndefined();
  });

  it("labels URLs by position and origin only", () => {
    expect(notifyLabel("https://hooks.slack.com/services/T000/B000/XXXX", 0)).toBe("notify[0] https://hooks.slack.com/…");
    expect(notifyLabel("https://u:p@example.com:8443", 2)).toBe("notify[2] https://example.com:8443");
    expect(notifyLabel("https://example.com/?token=x", 1)).toBe("notify[1] https://example.com/…");
    expect(notifyLabel("not a url", 3)).toBe("notify[3] (not a valid URL)");
    expect(notifyText({ ...event, commit: null, durationMs: undefined, kind: "deploy.started" })).toBe("sarge: deployer@app1 is deploying release 7 (web, worker)");
  });
});

/**
 * Hostile input against the server's own limits, over real HTTP on loopback:
 * headers or a body trickled in are cut at the server's deadlines, a body
 * over the limit gets 413 in the JSON error shape. A server built with short
 * deadlines and one route that reads a body stands in for the API's POST
 * routes (their own caps are tested with them).
 */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homePaths } from "../../src/home/paths.js";
import { buildServer } from "../../src/serve/app.js";

/** Sends `head` then one byte of `trickle` every 200 ms; resolves with what the server answered and how long the connection lasted. */
function trickle(port: number, head: string, trickleText: string): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect({ port, host: "127.0.0.1" });
    let answer = "";
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < trickleText.length && !socket.destroyed) socket.write(trickleText[sent++]!);
    }, 200);
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ answer, ms: Date.now() - started });
    });
    socket.write(head);
  });
}

describe("sarge serve: slow and oversized requests", () => {
  const root = join(mkdtempSync(join(tmpdir(), "sarge-hostile-")), "home");
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    mkdirSync(join(root, "var", "log"), { recursive: true });
    app = await buildServer({ paths: homePaths(root), timeouts: { headersMs: 1000, idleMs: 1500, requestMs: 2500 } });
    app.post("/echo", async (request) => ({ bytes: JSON.stringify(request.body).length }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(join(root, ".."), { recursive: true, force: true });
  });

  it("cuts a request whose headers trickle in past the header deadline", async () => {
    const { answer, ms } = await trickle(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n", "X-Slow: " + "a".repeat(200));
    expect(answer).toMatch(/^HTTP\/1\.1 408|^$/);
    expect(ms).toBeLessThan(10_000);
  });

  it("cuts a body that trickles in past the request deadline", async () => {
    const { answer, ms } = await trickle(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", `"${"b".repeat(998)}"`);
    expect(answer).not.toContain("200 OK");
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(10_000);
  });

  it("refuses a body over 1 MiB with 413 and the JSON error shape", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify("x".repeat(2 * 1024 * 1024)) });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: expect.stringContaining("Request body is too large") });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLogPage, streamLog } from "../../../src/serve/log-stream.js";

describe("log-stream", () => {
  const dir = mkdtempSync(join(tmpdir(), "sarge-logstream-"));
  const file = join(dir, "out.log");
  let app: FastifyInstance;
  let url: string;
  let finished: unknown = null;

  beforeAll(async () => {
    app = Fastify();
    app.get("/log", (request, reply) => streamLog(request, reply, { file: () => file, finished: () => finished }, 0, { pollMs: 10, heartbeatMs: 50 }));
    url = `${await app.listen({ host: "127.0.0.1", port: 0 })}/log`;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("never cuts a UTF-8 character: its bytes come with the next page", () => {
    const check = Buffer.from("✓");
    writeFileSync(file, Buffer.concat([Buffer.from("ab"), check.subarray(0, 2)]));
    expect(readLogPage(file, 0)).toEqual({ offset: 0, next: 2, size: 4, text: "ab" });
    writeFileSync(file, Buffer.concat([Buffer.from("ab"), check]));
    expect(readLogPage(file, 2)).toEqual({ offset: 2, next: 5, size: 5, text: "✓" });
  });

  it("sends heartbeats while nothing is written, then the end event once finished", async () => {
    writeFileSync(file, "line\n");
    finished = null;
    const response = await fetch(url);
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes(": heartbeat")) text += new TextDecoder().decode((await reader.read()).value);
    finished = { outcome: "success" };
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    expect(text).toBe(`retry: 1000\n\nevent: log\nid: 5\ndata: "line\\n"\n\n: heartbeat\n\nevent: end\nid: 5\ndata: {"outcome":"success"}\n\n`);
  });

  it("reads a log that shrank (rotated) again from its start", () => {
    writeFileSync(file, "new\n");
    expect(readLogPage(file, 100)).toEqual({ offset: 0, next: 4, size: 4, text: "new\n" });
    expect(readLogPage(null, 7)).toEqual({ offset: 0, next: 0, size: 0, text: "" });
  });
});

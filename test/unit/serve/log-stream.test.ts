import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLogPage, serveLog, streamLog } from "../../../src/serve/log-stream.js";
import { waitFor } from "../../support/wait.js";

describe("log-stream", () => {
  const dir = mkdtempSync(join(tmpdir(), "sarge-logstream-"));
  const file = join(dir, "out.log");
  let app: FastifyInstance;
  let url: string;
  let finished: unknown = null;
  let outcomeLooks = 0;
  const watched = join(dir, "watched.log");
  const outcomes = join(dir, "outcomes");
  const resumed = join(dir, "resumed.log");
  const watchedOutcome = (): unknown => JSON.parse(readFileSync(outcomes, "utf8"));

  beforeAll(async () => {
    app = Fastify();
    app.get("/log", (_request, reply) => streamLog(reply, { file: () => file, finished: () => (outcomeLooks++, finished) }, 0, { pollMs: 10, heartbeatMs: 50 }));
    // no poll within the test: only the watch of the file and of the outcome file can wake these streams
    app.get("/watched", (_request, reply) => streamLog(reply, { file: () => watched, finished: () => watchedOutcome(), outcomeFile: outcomes }, 0, { pollMs: 600_000, heartbeatMs: 600_000 }));
    app.get("/resumed", (request, reply) => serveLog(request, reply, { file: () => resumed }, { pollMs: 600_000, heartbeatMs: 600_000 }));
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

  it("gives many streams of one log the same events from one shared look per poll", async () => {
    writeFileSync(file, "first\n");
    finished = null;
    const streams = await Promise.all(Array.from({ length: 20 }, () => fetch(url)));
    const seen = streams.map(() => "");
    const all = Promise.all(
      streams.map(async (response, i) => {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) seen[i] += new TextDecoder().decode(chunk);
        return seen[i]!;
      }),
    ).then((texts) => texts.map((text) => text.replaceAll(": heartbeat\n\n", "")));
    outcomeLooks = 0;
    const started = Date.now();
    await waitFor(() => seen.every((text) => text.includes("first")), "every stream to have the first line");
    appendFileSync(file, "second\n");
    await waitFor(() => seen.every((text) => text.includes("second")), "every stream to have the second line");
    finished = { outcome: "success" };
    const events = await all;
    // one look per 10 ms poll for all 20 streams, not one per stream (a loaded machine only makes them fewer)
    expect(outcomeLooks).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 10) + 5);
    expect(new Set(events)).toEqual(new Set([`retry: 1000\n\nevent: log\nid: 6\ndata: "first\\n"\n\nevent: log\nid: 13\ndata: "second\\n"\n\nevent: end\nid: 13\ndata: {"outcome":"success"}\n\n`]));
  });

  it("sends a written line and the end event as soon as the log and the outcome file change, without waiting for a poll", async () => {
    writeFileSync(watched, "");
    writeFileSync(outcomes, "null");
    const seen: string[] = [""];
    const response = await fetch(url.replace(/\/log$/, "/watched"));
    const done = (async () => {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) seen[0] += new TextDecoder().decode(chunk);
    })();
    await waitFor(() => seen[0]!.startsWith("retry: 1000"), "the stream to open");
    appendFileSync(watched, "deployed\n");
    await waitFor(() => seen[0]!.includes("deployed"), "the line, long before the 10 min poll", 20_000);
    writeFileSync(outcomes, JSON.stringify({ outcome: "success" }));
    await done;
    expect(seen[0]).toBe(`retry: 1000\n\nevent: log\nid: 9\ndata: "deployed\\n"\n\nevent: end\nid: 9\ndata: {"outcome":"success"}\n\n`);
  });

  it("resumes at a Last-Event-ID past what the streams already open have seen without sending a byte again", async () => {
    writeFileSync(resumed, "one\n");
    const first = await fetch(url.replace(/\/log$/, "/resumed"), { headers: { accept: "text/event-stream" } });
    const firstReader = first.body!.getReader();
    let firstText = "";
    while (!firstText.includes("one")) firstText += new TextDecoder().decode((await firstReader.read()).value);
    // a page hands out offset 8 before the open stream's follower has looked at the new line
    appendFileSync(resumed, "two\n");
    expect(readLogPage(resumed, 4).next).toBe(8);
    const second = await fetch(url.replace(/\/log$/, "/resumed"), { headers: { accept: "text/event-stream", "last-event-id": "8" } });
    const reader = second.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    appendFileSync(resumed, "three\n");
    while (!text.includes("three")) text += new TextDecoder().decode((await reader.read()).value);
    await Promise.all([reader.cancel(), firstReader.cancel()]);
    expect(text).toBe(`retry: 1000\n\nevent: log\nid: 14\ndata: "three\\n"\n\n`);
  });

  it("reads a log that shrank (rotated) again from its start", () => {
    writeFileSync(file, "new\n");
    expect(readLogPage(file, 100)).toEqual({ offset: 0, next: 4, size: 4, text: "new\n" });
    expect(readLogPage(null, 7)).toEqual({ offset: 0, next: 0, size: 0, text: "" });
  });
});

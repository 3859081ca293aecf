/**
 * Benchmark: a deploy through `sarge serve`'s API against the same deploy through the CLI
 * (issue 15's target: ≤ 1.05×), and the same API deploy while 100 SSE streams follow its log
 * (≤ 10% slower, server RSS ≤ 80 MB).
 *
 *   npm run build && node build/bench/serve-deploy.js     (BENCH_SERVE_DEPLOYS=N, default 3)
 *
 * One home with examples/hello deployed; deploys of a new version alternate CLI and API (the
 * environment is reused, as a code change does). The API's time runs from the POST to the
 * `end` event of the release's SSE log stream (how a client waits for the outcome, without
 * polling the server beside the deploy). No pass/fail.
 */
import { request } from "node:http";
import { helloArchive } from "./support/apps.js";
import { check } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { startBenchServer } from "./support/serve.js";
import { memoryOf } from "./support/proc.js";
import { fmt, isMain, loadAtStart, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

const STREAMS = 100;

const version = (n: number) => helloArchive({ "app.py": (old) => old.replace(/VERSION = "v1"/, `VERSION = "b${n}"`) });

export async function main(): Promise<BenchOutcome> {
  const runs = Number(process.env.BENCH_SERVE_DEPLOYS ?? 3);
  const load = loadAtStart();
  const home = await createBenchHome({});
  await home.startSupervisor();
  check(await home.sarge(["deploy", "-", "web"], { input: version(0), timeoutMs: 300_000 }), "first deploy");
  const token = check(await home.sarge(["token", "add", "bench", "--role", "deployer"]), "token add").stdout.trim();
  const server = await startBenchServer(home);
  const base = server.base;
  const auth = { authorization: `Bearer ${token}` };
  const apiDeploy = async (archive: Buffer, during?: (id: number) => () => void): Promise<number> => {
    const started = performance.now();
    const answer = await fetch(`${base}/api/v1/releases`, { method: "POST", body: archive, headers: { ...auth, "content-type": "application/x-tar" } });
    const { id } = (await answer.json()) as { id: number };
    if (answer.status !== 202) throw new Error(`POST /api/v1/releases: ${answer.status}`);
    const stop = during?.(id);
    const outcome = await releaseOutcome(base, token, id);
    if (!outcome.includes('"outcome":"success"')) throw new Error(`release ${id} did not succeed: ${outcome}`);
    const ms = performance.now() - started;
    stop?.();
    return ms;
  };
  try {
    const cli: number[] = [];
    const api: number[] = [];
    const streamed: number[] = [];
    let n = 1;
    for (let i = 0; i < runs; i++) {
      cli.push(check(await home.sarge(["deploy", "-", "web"], { input: version(n++), timeoutMs: 300_000 }), "CLI deploy").wallMs);
      api.push(await apiDeploy(version(n++)));
      streamed.push(await apiDeploy(version(n++), (id) => openStreams(server.base, token, id)));
    }
    const memory = memoryOf(server.pid);
    const [cliMs, apiMs, streamedMs] = [median(cli), median(api), median(streamed)];
    console.log(
      `  deploy: CLI ${fmt.ms(cliMs, 0)}, API ${fmt.ms(apiMs, 0)} (${fmt.ratio(apiMs / cliMs)}), API with ${STREAMS} SSE streams ${fmt.ms(streamedMs, 0)} (${fmt.ratio(streamedMs / apiMs)}); server RSS ${fmt.mb(memory.rss)} (peak ${fmt.mb(memory.hwm)}); load average at start ${load}`,
    );
    const resultFile = writeResult("serve-deploy", { runs, load, cliMs: cli, apiMs: api, streamedMs: streamed, rss: memory.rss, hwm: memory.hwm });
    return {
      name: "serve-deploy",
      resultFile,
      rows: [
        { bench: "11", measure: `deploy through the API, median of ${runs} (load ${load})`, sarge: fmt.ms(apiMs, 0), reference: `sarge deploy ${fmt.ms(cliMs, 0)}`, ratio: fmt.ratio(round(apiMs / cliMs, 3)), target: "≤ 1.05×" },
        { bench: "11", measure: `API deploy with ${STREAMS} SSE log streams open`, sarge: fmt.ms(streamedMs, 0), reference: `without ${fmt.ms(apiMs, 0)}`, ratio: fmt.ratio(round(streamedMs / apiMs, 3)), target: "≤ 1.10×" },
        { bench: "11", measure: "sarge serve RSS after the deploys (peak)", sarge: `${fmt.mb(memory.rss)} (${fmt.mb(memory.hwm)})`, reference: "-", ratio: "-", target: "≤ 80 MB" },
      ],
    };
  } finally {
    await server.stop();
    await home.destroy();
  }
}

/** The `end` event of the release's SSE log stream: how a client learns the outcome as soon as the server knows it, without polling. */
function releaseOutcome(base: string, token: string, id: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/v1/releases/${id}/log`, { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        const end = /event: end\nid: \d+\ndata: (.*)\n/.exec(text);
        if (end) resolve(end[1]!);
        else reject(new Error(`the log stream of release ${id} ended without an outcome (status ${res.statusCode})`));
      });
    });
    req.setTimeout(300_000, () => req.destroy(new Error(`release ${id}: no outcome within 300 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** STREAMS SSE readers of the release's log; returns the function that closes them. */
function openStreams(base: string, token: string, id: number): () => void {
  const requests = Array.from({ length: STREAMS }, () => {
    const req = request(`${base}/api/v1/releases/${id}/log`, { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } }, (res) => res.resume());
    req.on("error", () => undefined);
    req.end();
    return req;
  });
  return () => requests.forEach((req) => req.destroy());
}

if (isMain(import.meta.url)) runStandalone(main);

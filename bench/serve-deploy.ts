/**
 * Benchmark: a deploy through `sarge serve`'s API against the same deploy through the CLI
 * (issue 15's target: ≤ 1.05×), and the same API deploy while 100 SSE streams follow its log
 * (≤ 10% slower, server RSS ≤ 80 MB).
 *
 *   npm run build && node build/bench/serve-deploy.js     (BENCH_SERVE_DEPLOYS=N rounds, default 7)
 *
 * One home with examples/hello deployed; each round deploys a new version three ways, one
 * after the other on the same home, in an order that rotates from round to round (the
 * environment is reused, as a code change does): the CLI (spawn to exit), the API (from the
 * POST to the `end` event of the release's SSE log stream, how a client waits for the outcome
 * without polling the server beside the deploy) and the API with 100 SSE streams following
 * that release. The ratios are medians of each round's own ratios (its deploys ran minutes
 * apart at most, so a load that drifts over the run moves both sides), with their spread; the
 * load average is taken before every deploy. Wall time on a loaded machine moves by more than
 * the 5% the target asks about, so each deploy's CPU is taken too: the CLI's process tree, or
 * the server with the `sarge deploy` it ran, which a load does not inflate. The server's RSS
 * is sampled every 50 ms while the streams are open. No pass/fail.
 */
import { statSync } from "node:fs";
import { request } from "node:http";
import { loadavg } from "node:os";
import { helloArchive } from "./support/apps.js";
import { check } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { startBenchServer, type BenchServer } from "./support/serve.js";
import { cpuOf, memoryOf } from "./support/proc.js";
import { fmt, isMain, loadAtStart, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";
import { waitFor } from "../test/support/wait.js";

const STREAMS = 100;
const kinds = ["cli", "api", "streamed"] as const;
type Kind = (typeof kinds)[number];

const version = (n: number) => helloArchive({ "app.py": (old) => old.replace(/VERSION = "v1"/, `VERSION = "b${n}"`) });

interface Deploy {
  round: number;
  kind: Kind;
  ms: number;
  /** From the history line (the outcome recorded) to the end of the wait: the CLI's exit, or the API's end event. */
  afterRecordMs: number;
  /**
   * CPU seconds of the whole deploy, load or not: the CLI's process tree, or the server with
   * the `sarge deploy` it ran (taken once the server has reaped it); and of this process (the
   * streams' reader).
   */
  deployCpu: number;
  /** The server's own CPU seconds without its sarge deploy: what the streams cost it shows here, apart from the child's noise. */
  serverCpu: number;
  benchCpu: number;
  /** The 1-minute load average just before it. */
  load: number;
}

export async function main(): Promise<BenchOutcome> {
  const rounds = Number(process.env.BENCH_SERVE_DEPLOYS ?? 7);
  const loadBefore = loadAtStart();
  const home = await createBenchHome({});
  await home.startSupervisor();
  check(await home.sarge(["deploy", "-", "web"], { input: version(0), timeoutMs: 300_000 }), "first deploy");
  const token = check(await home.sarge(["token", "add", "bench", "--role", "deployer"]), "token add").stdout.trim();
  const server = await startBenchServer(home);
  const peakRss: number[] = [];
  const eventsPerStream: number[] = [];
  try {
    const deploys: Deploy[] = [];
    let n = 1;
    const deploy: Record<Kind, () => Promise<number>> = {
      cli: async () => check(await home.sarge(["deploy", "-", "web"], { input: version(n++), timeoutMs: 300_000 }), "CLI deploy").wallMs,
      api: () => apiDeploy(server, token, version(n++)),
      streamed: () =>
        apiDeploy(server, token, version(n++), (id) => {
          const closeStreams = openStreams(server.base, token, id);
          const stopSampling = sampleRss(server.pid, peakRss);
          return () => {
            stopSampling();
            eventsPerStream.push(closeStreams());
          };
        }),
    };
    const deployCpu = (kind: Kind): number => {
      const cpu = cpuOf(kind === "cli" ? "self" : server.pid);
      return kind === "cli" ? cpu.reaped : cpu.own + cpu.reaped;
    };
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < kinds.length; i++) {
        const kind = kinds[(round + i) % kinds.length]!;
        const load = loadavg()[0]!;
        const [cpuBefore, serverBefore, benchCpu] = [deployCpu(kind), cpuOf(server.pid).own, process.cpuUsage()];
        const ms = await deploy[kind]();
        const afterRecordMs = Date.now() - statSync(home.paths.history).mtimeMs;
        const bench = process.cpuUsage(benchCpu);
        if (kind !== "cli") await queueIdle(server, token);
        deploys.push({ round, kind, load, ms, afterRecordMs, deployCpu: deployCpu(kind) - cpuBefore, serverCpu: cpuOf(server.pid).own - serverBefore, benchCpu: (bench.user + bench.system) / 1e6 });
      }
    }
    const memory = memoryOf(server.pid);
    const loadAfter = loadAtStart();
    const times = (kind: Kind) => deploys.filter((one) => one.kind === kind).map((one) => one.ms);
    const paired = (kind: Kind, against: Kind, measure = (one: Deploy) => one.ms) => {
      const of = (round: number, which: Kind) => measure(deploys.find((one) => one.round === round && one.kind === which)!);
      return Array.from({ length: rounds }, (_, round) => of(round, kind) / of(round, against));
    };
    const apiRatios = paired("api", "cli");
    const streamRatios = paired("streamed", "api");
    const loads = deploys.map((one) => one.load);
    const spread = (values: number[], format: (value: number) => string) => `${format(Math.min(...values))}-${format(Math.max(...values))}`;
    const peak = Math.max(...peakRss);
    const loadRange = `load ${spread(loads, (value) => value.toFixed(1))}`;
    for (const kind of kinds) {
      const mine = deploys.filter((one) => one.kind === kind);
      const cpu = (pick: (one: Deploy) => number) => `${median(mine.map(pick)).toFixed(2)} s`;
      const afterRecord = fmt.ms(median(mine.map((one) => one.afterRecordMs)), 0);
      console.log(
        `  ${kind.padEnd(8)} median ${fmt.ms(median(times(kind)), 0)}, single runs ${spread(times(kind), (value) => fmt.ms(value, 0))}; after the history line ${afterRecord}; CPU: deploy ${cpu((one) => one.deployCpu)}, the server alone ${cpu((one) => one.serverCpu)}, this process ${cpu((one) => one.benchCpu)}`,
      );
    }
    console.log(
      `  API / CLI per round: median ${fmt.ratio(median(apiRatios))} (${spread(apiRatios, fmt.ratio)}), target ≤ 1.05×; with ${STREAMS} SSE streams / API: median ${fmt.ratio(median(streamRatios))} (${spread(streamRatios, fmt.ratio)}), target ≤ 1.10×`,
    );
    const cpuRatios = paired("api", "cli", (one) => one.deployCpu);
    const streamCpuRatios = paired("streamed", "api", (one) => one.deployCpu);
    console.log(
      `  CPU of the deploy, API / CLI per round: median ${fmt.ratio(median(cpuRatios))} (${spread(cpuRatios, fmt.ratio)}); with ${STREAMS} streams / API: median ${fmt.ratio(median(streamCpuRatios))} (${spread(streamCpuRatios, fmt.ratio)})`,
    );
    console.log(`  log events each stream got: ${spread(eventsPerStream, String)} per deploy`);
    console.log(`  server RSS with ${STREAMS} streams open: peak ${fmt.mb(peak)} (median of samples ${fmt.mb(median(peakRss))}), after the rounds ${fmt.mb(memory.rss)}, VmHWM ${fmt.mb(memory.hwm)}, target ≤ 80 MB; ${loadRange}, load average ${loadBefore} before, ${loadAfter} after`);
    const resultFile = writeResult("serve-deploy", { rounds, loadBefore, loadAfter, deploys, apiRatios, streamRatios, cpuRatios, streamCpuRatios, eventsPerStream, rssSamples: peakRss, rss: memory.rss, hwm: memory.hwm });
    return {
      name: "serve-deploy",
      resultFile,
      rows: [
        {
          bench: "11",
          measure: `deploy through the API, ${rounds} rounds (${loadRange})`,
          sarge: `${fmt.ms(median(times("api")), 0)} (${spread(times("api"), (value) => fmt.ms(value, 0))})`,
          reference: `sarge deploy ${fmt.ms(median(times("cli")), 0)} (${spread(times("cli"), (value) => fmt.ms(value, 0))})`,
          ratio: `${fmt.ratio(round(median(apiRatios), 3))} (${spread(apiRatios, fmt.ratio)})`,
          target: "≤ 1.05×",
        },
        {
          bench: "11",
          measure: `API deploy with ${STREAMS} SSE log streams open`,
          sarge: `${fmt.ms(median(times("streamed")), 0)} (${spread(times("streamed"), (value) => fmt.ms(value, 0))})`,
          reference: `without ${fmt.ms(median(times("api")), 0)}`,
          ratio: `${fmt.ratio(round(median(streamRatios), 3))} (${spread(streamRatios, fmt.ratio)})`,
          target: "≤ 1.10×",
        },
        {
          bench: "11",
          measure: "CPU of that deploy, API (server and its sarge deploy) against the CLI's process tree",
          sarge: `${median(deploys.filter((one) => one.kind === "api").map((one) => one.deployCpu)).toFixed(2)} s`,
          reference: `${median(deploys.filter((one) => one.kind === "cli").map((one) => one.deployCpu)).toFixed(2)} s`,
          ratio: `${fmt.ratio(round(median(cpuRatios), 3))} (${spread(cpuRatios, fmt.ratio)})`,
          target: "-",
        },
        { bench: "11", measure: `sarge serve RSS, peak with ${STREAMS} streams open (VmHWM)`, sarge: `${fmt.mb(peak)} (${fmt.mb(memory.hwm)})`, reference: "-", ratio: "-", target: "≤ 80 MB" },
      ],
    };
  } finally {
    await server.stop();
    await home.destroy();
  }
}

/** One deploy through the API, from the POST to the end event of its log; `during` runs from the 202 to the end. */
async function apiDeploy(server: BenchServer, token: string, archive: Buffer, during?: (id: number) => () => void): Promise<number> {
  const started = performance.now();
  const answer = await fetch(`${server.base}/api/v1/releases`, { method: "POST", body: archive, headers: { authorization: `Bearer ${token}`, "content-type": "application/x-tar" } });
  const { id } = (await answer.json()) as { id: number };
  if (answer.status !== 202) throw new Error(`POST /api/v1/releases: ${answer.status}`);
  const stop = during?.(id);
  try {
    const outcome = await releaseOutcome(server.base, token, id);
    if (!outcome.includes('"outcome":"success"')) throw new Error(`release ${id} did not succeed: ${outcome}`);
    return performance.now() - started;
  } finally {
    stop?.();
  }
}

/** Once the server's queue has no running or waiting release (its sarge deploy reaped), after the timed part. */
async function queueIdle(server: BenchServer, token: string): Promise<void> {
  await waitFor(
    async () => {
      const records = (await (await fetch(`${server.base}/api/v1/queue`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string }[];
      return !records.some((record) => record.state === "running" || record.state === "queued");
    },
    "the server's queue to be idle",
    300_000,
    10,
  );
}

/** The server's RSS every 50 ms into `samples`, until the returned function is called. */
function sampleRss(pid: number, samples: number[]): () => void {
  const take = () => samples.push(memoryOf(pid).rss);
  take();
  const timer = setInterval(take, 50);
  return () => {
    clearInterval(timer);
    take();
  };
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

/** STREAMS SSE readers of the release's log; returns the function that closes them, which hands back how many log events the first one got. */
function openStreams(base: string, token: string, id: number): () => number {
  let events = 0;
  const requests = Array.from({ length: STREAMS }, (_, i) => {
    const req = request(`${base}/api/v1/releases/${id}/log`, { headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } }, (res) => {
      if (i > 0) return void res.resume();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (events += chunk.split("event: log\n").length - 1));
    });
    req.on("error", () => undefined);
    req.end();
    return req;
  });
  return () => {
    requests.forEach((req) => req.destroy());
    return events;
  };
}

if (isMain(import.meta.url)) runStandalone(main);

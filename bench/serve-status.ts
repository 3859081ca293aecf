/**
 * Benchmark: GET /api/v1/status of `sarge serve` against `sarge status --json` as a process
 * (issue 15's target: p50 ≤ 10 ms and ≥ 10× faster), and the server's memory.
 *
 *   npm run build && node build/bench/serve-status.js     (BENCH_SERVE_RUNS=N, default 100)
 *
 * A home with 50 running instances (one deploy of examples/hello with 50 process types, as
 * bench/cli-latency.ts makes them). `<home>/bin/sarge serve` runs as its own process; the API
 * is asked N times in a row over one keep-alive connection (after 5 warm-ups), the CLI run
 * N/5 times from spawn to exit. Both answer the same JSON (checked). RSS of the server after
 * the runs and its peak. No pass/fail.
 */
import { helloArchive } from "./support/apps.js";
import { check } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { startBenchServer } from "./support/serve.js";
import { memoryOf } from "./support/proc.js";
import { fmt, isMain, loadAtStart, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

const INSTANCES = 50;

function typesFor(count: number): string[] {
  return ["web", ...Array.from({ length: count - 1 }, (_, i) => `w${String(i + 1).padStart(2, "0")}`)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function main(): Promise<BenchOutcome> {
  const runs = Number(process.env.BENCH_SERVE_RUNS ?? 100);
  const load = loadAtStart();
  const home = await createBenchHome({ rangeSize: INSTANCES + 10, keepReleases: 0 });
  await home.startSupervisor();
  const procfile = typesFor(INSTANCES).map((type) => `${type}: python app.py`).join("\n") + "\n";
  check(await home.sarge(["deploy", "-", ...typesFor(INSTANCES)], { input: helloArchive({ Procfile: procfile }), timeoutMs: 300_000 }), `deploy of ${INSTANCES} process types`);
  const token = check(await home.sarge(["token", "add", "bench", "--role", "viewer"]), "token add").stdout.trim();

  const server = await startBenchServer(home);
  try {
    const url = `${server.base}/api/v1/status`;
    const get = async (): Promise<{ ms: number; body: string }> => {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`GET /api/v1/status: ${response.status} ${body}`);
      return { ms: performance.now() - started, body };
    };
    for (let i = 0; i < 5; i++) await get();
    const api: number[] = [];
    let apiBody = "";
    for (let i = 0; i < runs; i++) {
      const answer = await get();
      api.push(answer.ms);
      apiBody = answer.body;
    }
    const memory = memoryOf(server.pid);
    const cli: number[] = [];
    let cliBody = "";
    for (let i = 0; i < Math.max(5, Math.round(runs / 5)); i++) {
      const result = check(await home.sarge(["status", "--json"]), "sarge status --json");
      cli.push(result.wallMs);
      cliBody = result.stdout;
    }
    if (JSON.stringify(JSON.parse(apiBody).map((row: { proc: string }) => row.proc)) !== JSON.stringify(JSON.parse(cliBody).map((row: { proc: string }) => row.proc))) {
      throw new Error("the API and the CLI answered different process types");
    }
    const apiP50 = round(median(api), 2);
    const apiP95 = round(percentile(api, 95), 2);
    const cliP50 = round(median(cli), 1);
    console.log(`  GET /api/v1/status, ${INSTANCES} instances: p50 ${fmt.ms(apiP50, 2)}, p95 ${fmt.ms(apiP95, 2)} (${runs} requests); sarge status --json p50 ${fmt.ms(cliP50, 1)} (${cli.length} runs); server RSS ${fmt.mb(memory.rss)} (peak ${fmt.mb(memory.hwm)}); load average at start ${load}`);
    const resultFile = writeResult("serve-status", { instances: INSTANCES, runs, load, apiMs: api, cliMs: cli, apiP50, apiP95, cliP50, rss: memory.rss, hwm: memory.hwm });
    return {
      name: "serve-status",
      resultFile,
      rows: [
        { bench: "8", measure: `GET /api/v1/status, ${INSTANCES} instances, p50 of ${runs} (load ${load})`, sarge: `${fmt.ms(apiP50, 2)} (p95 ${fmt.ms(apiP95, 2)})`, reference: `sarge status --json ${fmt.ms(cliP50, 1)}`, ratio: `${fmt.ratio(cliP50 / apiP50)} faster`, target: "≤ 10 ms, ≥ 10× faster" },
        { bench: "8", measure: "sarge serve RSS after the runs (peak)", sarge: `${fmt.mb(memory.rss)} (${fmt.mb(memory.hwm)})`, reference: "-", ratio: "-", target: "≤ 80 MB" },
      ],
    };
  } finally {
    await server.stop();
    await home.destroy();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

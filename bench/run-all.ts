/**
 * `npm run bench`: every benchmark of issue 8 in one run, then one table of
 * every figure next to its floor or peer measured in the same run.
 *
 *   1 deploy-latency   2 zero-downtime   3 routing-overhead
 *   4 archive-ingest (bench/archive-ingest.ts's main())   5 cli-latency   6 supervisor
 *   7 dashboard (issue 16: first contentful paint and weight of the dashboard's home page)
 *   8 serve-status (issue 15: GET /api/v1/status against sarge status --json, server RSS)
 *   9 package (issue 19: size, offline install, sarge list installed vs checkout)
 *   10 fleet (issue 17: a push to three hosts vs one, failed requests through a front)
 *   11 serve-deploy (issue 15: a deploy through the API vs the CLI, and with 100 SSE log streams)
 *   12 bundle (issue 20: making a bundle against git archive | gzip + cp; deploying one against dist)
 *
 * BENCH_ONLY=1,4 runs a subset. Each benchmark also runs alone: node build/bench/<name>.js.
 * Results: bench/results/<name>.json and bench/results/summary.json. A benchmark that crashes is
 * reported and the others still run (exit code 1 at the end); no benchmark fails on time.
 */
import { existsSync } from "node:fs";
import { main as archiveIngest, type IngestResult } from "./archive-ingest.js";
import { main as bundleBench } from "./bundle.js";
import { main as cliLatency } from "./cli-latency.js";
import { main as dashboard } from "./dashboard.js";
import { main as deployLatency } from "./deploy-latency.js";
import { main as fleetBench } from "./fleet.js";
import { main as packageBench } from "./package.js";
import { main as routingOverhead } from "./routing-overhead.js";
import { main as serveDeploy } from "./serve-deploy.js";
import { main as serveStatus } from "./serve-status.js";
import { runAllCleanups } from "./support/cleanup.js";
import { fmt, isMain, machine, summaryTable, writeResult, type BenchOutcome, type SummaryRow } from "./support/report.js";
import { median } from "./support/stats.js";
import { main as supervisorBench } from "./supervisor.js";
import { main as zeroDowntime } from "./zero-downtime.js";

async function ingest(): Promise<BenchOutcome> {
  console.log("\n== 4. archive ingest: sarge's unpack vs tar -x (bench/archive-ingest.ts) ==");
  const onDisk = await archiveIngest();
  const onTmpfs = existsSync("/dev/shm") ? await archiveIngest({ dir: "/dev/shm", label: "tmpfs" }) : null;
  const row = (result: IngestResult, where: string) => ({
    bench: "4",
    measure: `archive ingest ${where}, ${(result.archive.contentBytes / 1e6).toFixed(0)} MB in ${fmt.int(result.archive.files)} files, median of ${result.runs}`,
    sarge: `${result.unpackArchive.mbPerSecond} MB/s, ${fmt.int(result.unpackArchive.filesPerSecond)} entries/s`,
    reference: `tar -x ${result.tarX.mbPerSecond} MB/s, ${fmt.int(result.tarX.filesPerSecond)} entries/s`,
    ratio: `${fmt.ratio(result.ratio)} (fastest runs ${fmt.ratio(result.ratioOfMin)})`,
    target: where === "to disk" ? "≥ 0.8× tar" : "≥ 0.85× tar",
  });
  const cpuPerMb = (timing: IngestResult["tarX"]) => (timing.cpuSeconds === null ? null : median(timing.cpuSeconds) / (onDisk.archive.contentBytes / 1e6));
  const [oursCpu, tarCpu] = [cpuPerMb(onDisk.unpackArchive), cpuPerMb(onDisk.tarX)];
  const cpuRow =
    oursCpu === null || tarCpu === null
      ? []
      : [{ bench: "4", measure: "archive ingest CPU per MB, to disk (median run)", sarge: `${(oursCpu * 1000).toFixed(2)} ms/MB`, reference: `tar -x ${(tarCpu * 1000).toFixed(2)} ms/MB`, ratio: fmt.ratio(oursCpu / tarCpu), target: "≤ 1.5× tar" }];
  return {
    name: "archive-ingest",
    resultFile: `bench/results/archive-ingest.json${onTmpfs ? ", archive-ingest-tmpfs.json" : ""}`,
    rows: [row(onDisk, "to disk"), ...(onTmpfs ? [row(onTmpfs, "to tmpfs")] : []), ...cpuRow],
  };
}

const benchmarks: Array<[number, string, () => Promise<BenchOutcome>]> = [
  [1, "deploy-latency", deployLatency],
  [2, "zero-downtime", zeroDowntime],
  [3, "routing-overhead", routingOverhead],
  [4, "archive-ingest", ingest],
  [5, "cli-latency", cliLatency],
  [6, "supervisor", supervisorBench],
  [7, "dashboard", dashboard],
  [8, "serve-status", serveStatus],
  [9, "package", packageBench],
  [10, "fleet", fleetBench],
  [11, "serve-deploy", serveDeploy],
  [12, "bundle", bundleBench],
];

async function runAll(): Promise<number> {
  const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map(Number)) : null;
  const info = machine();
  const started = performance.now();
  console.log(`sarge benchmarks on ${info.nproc} × ${info.cpuModel}, ${info.memoryGiB} GiB, ${info.os}, load average ${info.loadAverage.join(" ")}`);
  const rows: SummaryRow[] = [];
  const crashed: Array<{ name: string; error: string }> = [];
  const durations: Record<string, number> = {};
  for (const [number, name, bench] of benchmarks) {
    if (only && !only.has(number)) continue;
    const t0 = performance.now();
    try {
      rows.push(...(await bench()).rows);
    } catch (error) {
      const message = (error as Error).stack ?? String(error);
      process.stderr.write(`\nbenchmark ${name} failed: ${message}\n`);
      crashed.push({ name, error: (error as Error).message });
      rows.push({ bench: String(number), measure: `${name}: FAILED TO RUN (see stderr)`, sarge: "-", reference: "-", ratio: "-", target: "-" });
    } finally {
      await runAllCleanups();
      durations[name] = Math.round((performance.now() - t0) / 1000);
    }
  }
  const totalSeconds = Math.round((performance.now() - started) / 1000);
  const table = summaryTable(rows);
  console.log(`\n== summary: ${new Date().toISOString()}, ${totalSeconds} s, load average at start ${info.loadAverage.join(" ")} ==\n`);
  console.log(table);
  console.log(`machine: ${info.nproc} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB, ${info.kernel}, node ${info.node}, ${info.python}, ${info.haproxy}, supervisord ${info.supervisord}`);
  console.log(`durations (s): ${Object.entries(durations).map(([name, seconds]) => `${name} ${seconds}`).join(", ")}`);
  const file = writeResult("summary", { machine: info, totalSeconds, durations, rows, table, crashed });
  console.log(`results: bench/results/*.json (summary: ${file})`);
  return crashed.length === 0 ? 0 : 1;
}

if (isMain(import.meta.url)) {
  runAll()
    .then((code) => (process.exitCode = code))
    .catch((error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await runAllCleanups();
      setTimeout(() => process.exit(), 200).unref();
    });
}

/**
 * Benchmark 3 (issue 8): routing overhead. Requests per second through the stable
 * port (HAProxy, as sarge configures it) against the same instance's own port,
 * same backend, same run, for keep-alive and connection-per-request clients.
 *
 *   npm run build && node build/bench/routing-overhead.js
 *     BENCH_ROUTE_SECONDS (4 per measurement), BENCH_ROUTE_ROUNDS (2), BENCH_ROUTE_CLIENTS (8)
 *
 * Each measurement: a closed-loop Node client with N concurrent workers, 0.5 s warm-up, then
 * the answers completed in the next BENCH_ROUTE_SECONDS count. Direct and proxied alternate,
 * and the order flips every round. The client, HAProxy and the Python app share the 2 cores, so
 * this is the throughput a user of this machine gets, not HAProxy's capacity; the req/s ratio
 * moves a lot with other load on the machine. The CPU time HAProxy (and the app) spend per
 * request, from /proc over the same windows, is the steadier figure.
 * Writes bench/results/routing-overhead.json. No pass/fail.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { helloVersion } from "./support/apps.js";
import { check } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { processesUsing } from "../test/support/processes.js";
import { cpuSecondsOf } from "./support/proc.js";
import { startLoad, type LoadMode } from "../test/support/load.js";
import { fmt, formatTable, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { distribution, median, round, type Distribution } from "./support/stats.js";

interface Measurement {
  target: "direct" | "proxied";
  mode: LoadMode;
  round: number;
  rps: number;
  failed: number;
  latencyMs: Distribution;
  /** CPU time per answered request, in microseconds, of HAProxy (master + worker) and of the app. */
  cpuMicrosPerRequest: { haproxy: number; app: number };
}

/** The home's HAProxy processes and its app process, found by command line. */
function processesOf(root: string): { haproxy: number[]; app: number[] } {
  const found = processesUsing(root);
  return {
    haproxy: found.filter((p) => /\bhaproxy\b/.test(p.cmdline.split(" ")[0] ?? "")).map((p) => p.pid),
    app: found.filter((p) => p.cmdline.includes("app.py")).map((p) => p.pid),
  };
}

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      return sum + cpuSecondsOf(pid);
    } catch {
      return sum; // exited
    }
  }, 0);
}

async function measure(port: number, mode: LoadMode, clients: number, seconds: number, pids: { haproxy: number[]; app: number[] }): Promise<Omit<Measurement, "target" | "round">> {
  const load = startLoad(port, { workers: Array.from({ length: clients }, () => mode), maxMs: 3_600_000 });
  try {
    await sleep(500);
    const from = performance.timeOrigin + performance.now();
    const cpuBefore = { haproxy: cpuOf(pids.haproxy), app: cpuOf(pids.app) };
    await sleep(seconds * 1000);
    const to = performance.timeOrigin + performance.now();
    const cpuAfter = { haproxy: cpuOf(pids.haproxy), app: cpuOf(pids.app) };
    const counted = load.samples.filter((sample) => sample.end >= from && sample.end < to);
    const answered = counted.filter((sample) => sample.error === null).length;
    const perRequest = (seconds_: number) => round((seconds_ * 1e6) / Math.max(1, answered), 1);
    return {
      mode,
      rps: round(answered / ((to - from) / 1000), 1),
      failed: counted.filter((sample) => sample.error !== null).length,
      latencyMs: distribution(counted.map((sample) => sample.end - sample.start)),
      cpuMicrosPerRequest: { haproxy: perRequest(cpuAfter.haproxy - cpuBefore.haproxy), app: perRequest(cpuAfter.app - cpuBefore.app) },
    };
  } finally {
    await load.stop();
  }
}

export async function main(): Promise<BenchOutcome> {
  const seconds = Number(process.env.BENCH_ROUTE_SECONDS ?? 4);
  const rounds = Number(process.env.BENCH_ROUTE_ROUNDS ?? 2);
  const clients = Number(process.env.BENCH_ROUTE_CLIENTS ?? 8);
  const info = machine();
  console.log(`\n== 3. routing overhead: ${clients} clients, ${seconds} s per measurement, ${rounds} rounds ==`);
  const home = await createBenchHome({ rangeSize: 20 });
  try {
    await home.startSupervisor();
    const deployed = JSON.parse(check(await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v1") }), "deploy").stdout);
    const instancePort: number = deployed.instances[0].port;
    const pids = processesOf(home.root);
    if (pids.haproxy.length === 0 || pids.app.length === 0) throw new Error(`cannot find HAProxy or the app among ${JSON.stringify(processesUsing(home.root))}`);
    const measurements: Measurement[] = [];
    for (let round_ = 0; round_ < rounds; round_++) {
      for (const mode of ["keep-alive", "close"] as const) {
        const order = round_ % 2 === 0 ? (["direct", "proxied"] as const) : (["proxied", "direct"] as const);
        for (const target of order) {
          const result = await measure(target === "direct" ? instancePort : home.webPort, mode, clients, seconds, pids);
          measurements.push({ target, round: round_, ...result });
          console.log(
            `  ${target.padEnd(7)} ${mode.padEnd(10)} ${fmt.int(result.rps).padStart(6)} req/s  p50 ${result.latencyMs.p50.toFixed(1)} ms  p99 ${result.latencyMs.p99.toFixed(1)} ms  failed ${result.failed}` +
              `  CPU/request: app ${result.cpuMicrosPerRequest.app} µs, HAProxy ${result.cpuMicrosPerRequest.haproxy} µs`,
          );
        }
      }
    }
    const summary = (["keep-alive", "close"] as const).map((mode) => {
      const of = (target: "direct" | "proxied") => measurements.filter((m) => m.mode === mode && m.target === target);
      const direct = median(of("direct").map((m) => m.rps));
      const proxied = median(of("proxied").map((m) => m.rps));
      return {
        mode,
        directRps: round(direct, 1),
        proxiedRps: round(proxied, 1),
        ratio: round(proxied / direct, 3),
        directP50Ms: round(median(of("direct").map((m) => m.latencyMs.p50)), 2),
        proxiedP50Ms: round(median(of("proxied").map((m) => m.latencyMs.p50)), 2),
        haproxyMicrosPerRequest: round(median(of("proxied").map((m) => m.cpuMicrosPerRequest.haproxy)), 1),
        appMicrosPerRequest: round(median(of("direct").map((m) => m.cpuMicrosPerRequest.app)), 1),
      };
    });
    console.log(
      "\n" +
        formatTable(
          ["client", "direct req/s", "through stable port req/s", "proxied / direct", "p50 direct", "p50 proxied", "HAProxy CPU/req", "app CPU/req"],
          summary.map((s) => [s.mode, fmt.int(s.directRps), fmt.int(s.proxiedRps), s.ratio.toFixed(2), `${s.directP50Ms} ms`, `${s.proxiedP50Ms} ms`, `${s.haproxyMicrosPerRequest} µs`, `${s.appMicrosPerRequest} µs`]),
        ),
    );
    const resultFile = writeResult("routing-overhead", { machine: info, seconds, rounds, clients, summary, measurements });
    return {
      name: "routing-overhead",
      resultFile,
      rows: [
        ...summary.map((s) => ({
          bench: "3",
          measure: `req/s through the stable port, ${s.mode === "close" ? "new connection per request" : "keep-alive"}, ${clients} clients`,
          sarge: `${fmt.int(s.proxiedRps)} req/s`,
          reference: `${fmt.int(s.directRps)} req/s direct to the instance`,
          ratio: fmt.ratio(s.ratio),
          target: s.mode === "close" ? "-" : "≥ 0.75× direct",
        })),
        {
          bench: "3",
          measure: "HAProxy CPU per proxied request (keep-alive / conn per request)",
          sarge: summary.map((s) => `${s.haproxyMicrosPerRequest}`).join(" / ") + " µs",
          reference: `app CPU per request: ${summary.map((s) => `${s.appMicrosPerRequest}`).join(" / ")} µs`,
          ratio: "-",
          target: "-",
        },
      ],
    };
  } finally {
    await home.destroy();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

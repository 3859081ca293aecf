/**
 * Benchmark 3 (issue 8; wrk and pinned cores since issue 21): routing overhead. Requests per second
 * through the stable port (HAProxy, as sarge configures it) against the same instance's own port,
 * same run, keep-alive and a new connection per request, measured by wrk (one thread, N connections).
 *
 *   npm run build && node build/bench/routing-overhead.js      (needs wrk: apt-get install wrk)
 *     BENCH_ROUTE_SECONDS (3 per measurement), BENCH_ROUTE_ROUNDS (2), BENCH_ROUTE_CLIENTS (8)
 *
 * The machine has two cores for three programs, so each layout pins them (taskset) its own way:
 *   split:    wrk and the app on cpu 0, HAProxy alone on cpu 1: HAProxy's CPU takes nothing from
 *             the app, but a proxied request crosses between the cores where a direct one does not;
 *   shared:   wrk on cpu 0, the app and HAProxy on cpu 1: a request crosses the cores as often
 *             proxied as direct, and HAProxy's CPU comes out of the app's core;
 *   unpinned: the scheduler's choice, what a user of the machine gets.
 * Direct and proxied alternate, the order flips every round. HAProxy's and the app's CPU time per
 * request (from /proc over each run) is the steadier figure. Writes bench/results/routing-overhead.json. No pass/fail.
 */
import { helloVersion } from "./support/apps.js";
import { check } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { processesUsing } from "../test/support/processes.js";
import { cpuSecondsOf } from "./support/proc.js";
import { fmt, formatTable, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";
import { pinProcesses, requireWrk, runWrk } from "./support/wrk.js";

type Mode = "keep-alive" | "close";
type Target = "direct" | "proxied";

interface Layout {
  name: "split" | "shared" | "unpinned";
  /** taskset -c lists */
  wrk: string;
  app: string;
  haproxy: string;
}

const LAYOUTS: Layout[] = [
  { name: "split", wrk: "0", app: "0", haproxy: "1" },
  { name: "shared", wrk: "0", app: "1", haproxy: "1" },
  { name: "unpinned", wrk: "0,1", app: "0,1", haproxy: "0,1" },
];

interface Measurement {
  layout: Layout["name"];
  target: Target;
  mode: Mode;
  round: number;
  rps: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
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
  return pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
}

async function measure(port: number, layout: Layout, mode: Mode, clients: number, seconds: number, pids: { haproxy: number[]; app: number[] }) {
  const before = { haproxy: cpuOf(pids.haproxy), app: cpuOf(pids.app) };
  const result = await runWrk({ port, connections: clients, seconds, cpu: layout.wrk, close: mode === "close" });
  const perRequest = (spent: number) => round((spent * 1e6) / Math.max(1, result.requests), 1);
  return {
    rps: round(result.rps, 1),
    failed: result.failed,
    p50Ms: round(result.p50Ms, 2),
    p99Ms: round(result.p99Ms, 2),
    cpuMicrosPerRequest: { haproxy: perRequest(cpuOf(pids.haproxy) - before.haproxy), app: perRequest(cpuOf(pids.app) - before.app) },
  };
}

export async function main(): Promise<BenchOutcome> {
  requireWrk();
  const seconds = Number(process.env.BENCH_ROUTE_SECONDS ?? 3);
  const rounds = Number(process.env.BENCH_ROUTE_ROUNDS ?? 2);
  const clients = Number(process.env.BENCH_ROUTE_CLIENTS ?? 8);
  const info = machine();
  if (info.nproc < 2) throw new Error(`benchmark 3 pins wrk, HAProxy and the app to cpus 0 and 1: this machine has ${info.nproc}`);
  console.log(`\n== 3. routing overhead (wrk): ${clients} connections, ${seconds} s per measurement, ${rounds} rounds, layouts ${LAYOUTS.map((l) => l.name).join(", ")} ==`);
  const home = await createBenchHome({ rangeSize: 20 });
  try {
    await home.startSupervisor();
    const deployed = JSON.parse(check(await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v1") }), "deploy").stdout);
    const instancePort: number = deployed.instances[0].port;
    const pids = processesOf(home.root);
    if (pids.haproxy.length === 0 || pids.app.length === 0) throw new Error(`cannot find HAProxy or the app among ${JSON.stringify(processesUsing(home.root))}`);
    const measurements: Measurement[] = [];
    for (const layout of LAYOUTS) {
      pinProcesses(pids.app, layout.app);
      pinProcesses(pids.haproxy, layout.haproxy);
      console.log(`  ${layout.name}: wrk on cpu ${layout.wrk}, the app on ${layout.app}, HAProxy on ${layout.haproxy}`);
      for (let round_ = 0; round_ < rounds; round_++) {
        for (const mode of ["keep-alive", "close"] as const) {
          const order: Target[] = round_ % 2 === 0 ? ["direct", "proxied"] : ["proxied", "direct"];
          for (const target of order) {
            const result = await measure(target === "direct" ? instancePort : home.webPort, layout, mode, clients, seconds, pids);
            measurements.push({ layout: layout.name, target, mode, round: round_, ...result });
            console.log(
              `    ${target.padEnd(7)} ${mode.padEnd(10)} ${fmt.int(result.rps).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  failed ${result.failed}` +
                `  CPU/request: app ${result.cpuMicrosPerRequest.app} µs, HAProxy ${result.cpuMicrosPerRequest.haproxy} µs`,
            );
          }
        }
      }
    }
    const summary = LAYOUTS.flatMap((layout) =>
      (["keep-alive", "close"] as const).map((mode) => {
        const of = (target: Target) => measurements.filter((m) => m.layout === layout.name && m.mode === mode && m.target === target);
        const direct = median(of("direct").map((m) => m.rps));
        const proxied = median(of("proxied").map((m) => m.rps));
        return {
          layout: layout.name,
          mode,
          directRps: round(direct, 1),
          proxiedRps: round(proxied, 1),
          ratio: round(proxied / direct, 3),
          directP50Ms: round(median(of("direct").map((m) => m.p50Ms)), 2),
          proxiedP50Ms: round(median(of("proxied").map((m) => m.p50Ms)), 2),
          failed: [...of("direct"), ...of("proxied")].reduce((sum, m) => sum + m.failed, 0),
          haproxyMicrosPerRequest: round(median(of("proxied").map((m) => m.cpuMicrosPerRequest.haproxy)), 1),
          appMicrosPerRequest: round(median(of("direct").map((m) => m.cpuMicrosPerRequest.app)), 1),
          appProxiedMicrosPerRequest: round(median(of("proxied").map((m) => m.cpuMicrosPerRequest.app)), 1),
        };
      }),
    );
    console.log(
      "\n" +
        formatTable(
          ["layout", "client", "direct req/s", "through stable port req/s", "proxied / direct", "p50 direct", "p50 proxied", "failed", "HAProxy CPU/req", "app CPU/req direct / proxied"],
          summary.map((s) => [
            s.layout,
            s.mode,
            fmt.int(s.directRps),
            fmt.int(s.proxiedRps),
            s.ratio.toFixed(2),
            `${s.directP50Ms} ms`,
            `${s.proxiedP50Ms} ms`,
            String(s.failed),
            `${s.haproxyMicrosPerRequest} µs`,
            `${s.appMicrosPerRequest} / ${s.appProxiedMicrosPerRequest} µs`,
          ]),
        ),
    );
    const resultFile = writeResult("routing-overhead", { machine: info, seconds, rounds, clients, layouts: LAYOUTS, summary, measurements });
    const cpuFigure = (mode: Mode) => median(summary.filter((s) => s.mode === mode).map((s) => s.haproxyMicrosPerRequest));
    const appFigure = (mode: Mode) => median(summary.filter((s) => s.mode === mode).map((s) => s.appMicrosPerRequest));
    return {
      name: "routing-overhead",
      resultFile,
      rows: [
        ...summary.map((s) => ({
          bench: "3",
          measure: `req/s through the stable port, ${s.mode === "close" ? "new connection per request" : "keep-alive"}, wrk ${clients} connections, ${s.layout}`,
          sarge: `${fmt.int(s.proxiedRps)} req/s`,
          reference: `${fmt.int(s.directRps)} req/s direct to the instance`,
          ratio: fmt.ratio(s.ratio),
          target: s.mode === "close" ? "-" : "≥ 0.75× direct",
        })),
        {
          bench: "3",
          measure: "HAProxy CPU per proxied request (keep-alive / conn per request), median of the layouts",
          sarge: `${cpuFigure("keep-alive")} / ${cpuFigure("close")} µs`,
          reference: `app CPU per request: ${appFigure("keep-alive")} / ${appFigure("close")} µs`,
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

/**
 * Benchmark 10 (issue 17): a push to three hosts next to a push to one, side
 * by side in one run (staging runs on every host at once, so three hosts
 * should cost little more than one), and the requests that fail through a
 * front HAProxy balancing the three while the pushes run.
 *
 *   npm run build && node build/bench/fleet.js
 *     BENCH_FLEET_ROUNDS (4: each round pushes a new commit to one host, to all three
 *     switching one at a time (--limit 1, the default), and to all three switching
 *     together (--limit 100%): 12 pushes in all), BENCH_FLEET_VERIFY (--verify seconds;
 *     unset: the default, until each host's stable address passes 3 probes in a row),
 *     BENCH_FLEET_INTERVAL_MS (unset or 0: the 4 load workers send as fast as answers come,
 *     the most requests to catch a failure, but on this 2-CPU machine they leave the pushes
 *     about one CPU; N: each sends at most one request per N ms, e.g. 20 for ~200 a second)
 *
 * The hosts are test/support/fleet.ts's: three homes on this machine, each
 * behind its own sshd on loopback; they share its CPUs, so staging three
 * costs more than staging one here (docs/fleet.md, "How long it takes"). Each push's progress rows (stderr) give
 * where its time went: until every host is staged (check, lock, list, stage:
 * the longest host of each), then phase B, and each host's activate and
 * verify. Writes bench/results/fleet.json. No pass/fail.
 */
import { startFleet } from "../test/support/fleet.js";
import { startLoad } from "../test/support/load.js";
import { onCleanup } from "./support/cleanup.js";
import { fmt, isMain, loadAtStart, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median } from "./support/stats.js";

export async function main(): Promise<BenchOutcome> {
  const rounds = Number(process.env.BENCH_FLEET_ROUNDS ?? 4);
  const verify = process.env.BENCH_FLEET_VERIFY;
  const verifyArgs = verify === undefined ? [] : ["--verify", verify];
  const verifyLabel = verify === undefined ? "default --verify" : `--verify ${verify}`;
  const intervalMs = Number(process.env.BENCH_FLEET_INTERVAL_MS ?? 0);
  const loadLabel = intervalMs > 0 ? `4 workers, one request per ${intervalMs} ms each` : "4 workers, closed loop";
  const loadBefore = loadAtStart();
  const fleet = await startFleet();
  const stopFleet = onCleanup("fleet", async () => void (await fleet.stop()));
  const load = startLoad(fleet.frontPort, { workers: 4, maxMs: 3_600_000, intervalMs });
  const stopLoad = onCleanup("fleet load", async () => void (await load.stop()));
  try {
    await load.answered(20);
    const one: number[] = [];
    const three: number[] = [];
    const together: number[] = [];
    const oneHost = fleet.hosts.split(",")[0]!;
    const kinds = [
      ["1 host", oneHost, "1", one],
      ["3 hosts, --limit 1", fleet.hosts, "1", three],
      ["3 hosts, --limit 100%", fleet.hosts, "100%", together],
    ] as const;
    const breakdowns: Breakdown[][] = kinds.map(() => []);
    for (let round = 1; round <= rounds; round++) {
      for (const [index, [label, hosts, limit, times]] of kinds.entries()) {
        fleet.commit(`bench-${round}.${index}`);
        const started = performance.now();
        const rows = progressRows(started);
        const result = await fleet.push([...verifyArgs, "--limit", limit, "--json"], { hosts, onStderr: rows.add });
        const ms = performance.now() - started;
        if (result.code !== 0) throw new Error(`push to ${label} failed (exit ${result.code}):\n${result.stderr}`);
        times.push(ms);
        breakdowns[index]!.push(rows.breakdown());
        console.log(`round ${round}: push to ${label} ${fmt.s(ms)}: ${describeBreakdown(rows.breakdown())}`);
      }
    }
    const samples = await load.stop();
    const failed = samples.filter((sample) => sample.status !== 200);
    const ratio = median(three) / median(one);
    const ratioTogether = median(together) / median(one);
    const resultFile = writeResult("fleet", {
      rounds,
      verifySeconds: verify === undefined ? null : Number(verify),
      loadIntervalMs: intervalMs,
      oneHostMs: one,
      threeHostsMs: three,
      threeHostsTogetherMs: together,
      ratio,
      ratioTogether,
      breakdowns: Object.fromEntries(kinds.map(([label], index) => [label, breakdowns[index]])),
      loadAverage: { start: loadBefore, end: loadAtStart() },
      requests: samples.length,
      failed: failed.length,
      failures: failed.slice(0, 20).map((sample) => sample.error),
    });
    return {
      name: "fleet",
      resultFile,
      rows: [
        {
          bench: "10",
          measure: `push to 3 hosts vs to 1, switching one at a time (--limit 1, ${verifyLabel}), median of ${rounds}`,
          sarge: fmt.s(median(three)),
          reference: `1 host ${fmt.s(median(one))}`,
          ratio: fmt.ratio(ratio),
          target: "≤ 1.5× (issue 17, at the defaults)",
        },
        {
          bench: "10",
          measure: `push to 3 hosts vs to 1, switching together (--limit 100%, ${verifyLabel}), median of ${rounds}`,
          sarge: fmt.s(median(together)),
          reference: `1 host ${fmt.s(median(one))}`,
          ratio: fmt.ratio(ratioTogether),
          target: "-",
        },
        ...kinds.map(([label], index) => ({
          bench: "10",
          measure: `where the time of a push to ${label} went (median s): ${describeBreakdown(medianBreakdown(breakdowns[index]!))}`,
          sarge: `phase B ${fmt.s(1000 * median(breakdowns[index]!.map((b) => b.phaseB)))}`,
          reference: `until staged ${fmt.s(1000 * median(breakdowns[index]!.map((b) => b.untilStaged)))}`,
          ratio: "-",
          target: "-",
        })),
        {
          bench: "10",
          measure: `failed requests through the front across ${rounds * kinds.length} pushes (${loadLabel})`,
          sarge: `${failed.length} of ${fmt.int(samples.length)}`,
          reference: "-",
          ratio: "-",
          target: "0",
        },
      ],
    };
  } finally {
    await stopLoad();
    await stopFleet();
  }
}

/** Seconds: the slowest host's time in each phase before phase B, the wall time until every host was staged and of phase B, the median host's activate and verify. */
interface Breakdown {
  check: number;
  lock: number;
  list: number;
  stage: number;
  untilStaged: number;
  phaseB: number;
  activate: number;
  verify: number;
}

/** The progress rows of one push (host, phase, state) as they arrive, timed from `started`. */
function progressRows(started: number) {
  const seen: Array<{ ms: number; host: string; phase: string; state: string }> = [];
  let partial = "";
  return {
    add(chunk: string) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        const [host, phase, state] = line.split(/ +/);
        if (host?.includes(":") && phase && state) seen.push({ ms: performance.now() - started, host, phase, state });
      }
    },
    breakdown(): Breakdown {
      const spans = new Map<string, number[]>();
      const running = new Map<string, { phase: string; ms: number }>();
      const checked = new Set<string>();
      for (const row of seen) {
        if (row.state === "running") {
          // a host's second "check" is the record of what it runs (sarge list)
          const phase = row.phase === "check" && checked.has(row.host) ? "list" : row.phase;
          if (row.phase === "check") checked.add(row.host);
          running.set(row.host, { phase, ms: row.ms });
          continue;
        }
        const span = running.get(row.host);
        if (!span) continue;
        spans.set(span.phase, [...(spans.get(span.phase) ?? []), row.ms - span.ms]);
        running.delete(row.host);
      }
      const staged = Math.max(...seen.filter((row) => row.phase === "stage" && row.state !== "running").map((row) => row.ms));
      const end = seen.at(-1)?.ms ?? staged;
      const longest = (phase: string) => Math.max(0, ...(spans.get(phase) ?? [])) / 1000;
      const middle = (phase: string) => median(spans.get(phase) ?? [0]) / 1000;
      return { check: longest("check"), lock: longest("lock"), list: longest("list"), stage: longest("stage"), untilStaged: staged / 1000, phaseB: (end - staged) / 1000, activate: middle("activate"), verify: middle("verify") };
    },
  };
}

function medianBreakdown(all: Breakdown[]): Breakdown {
  const keys = Object.keys(all[0]!) as Array<keyof Breakdown>;
  return Object.fromEntries(keys.map((key) => [key, median(all.map((one) => one[key]))])) as unknown as Breakdown;
}

function describeBreakdown(b: Breakdown): string {
  const s = (value: number) => value.toFixed(1);
  return `check ${s(b.check)}, lock ${s(b.lock)}, list ${s(b.list)}, stage ${s(b.stage)} (all staged at ${s(b.untilStaged)}); phase B ${s(b.phaseB)}, a host's activate ${s(b.activate)} + verify ${s(b.verify)}`;
}

if (isMain(import.meta.url)) runStandalone(main);

/**
 * Benchmark 2 (issue 8): zero downtime. Continuous load through the stable port
 * (HAProxy) while sarge runs 20 deploys and 5 rollbacks of examples/hello.
 *
 *   npm run build && node build/bench/zero-downtime.js
 *     BENCH_ZD_DEPLOYS (20), BENCH_ZD_ROLLBACKS (5), BENCH_ZD_WORKERS (4: half keep-alive,
 *     half a new connection per request), BENCH_ZD_REST_MS (600 between operations)
 *
 * Load: a closed-loop Node client (bench/support/load.ts). Every answer names the instance
 * that served it. For each operation the progress lines give:
 *   switch window  from the new instance being ready (deploy) or 300 ms + switchMs before the
 *                  "now routes to" line (rollback) until the old instance is stopped, + 100 ms
 *   drain end      the "now routes to" line: sarge prints it after the old slot is drained and in
 *                  maintenance. A request sent after that moment and answered by the instance that
 *                  was drained counts as "reached a retired version" (unless a rollback had begun
 *                  to re-activate it before the request was sent). Answers from any instance other
 *                  than the active one are also counted separately, as "unexpected instance".
 * "At rest" is every request sent and answered while no sarge command ran.
 * Writes bench/results/zero-downtime.json. No pass/fail.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { helloVersion } from "./support/apps.js";
import { check, lineTime, type RunResult } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { startLoad, type LoadMode, type LoadSample } from "../test/support/load.js";
import { deployPhases, medianPhases } from "./support/phases.js";
import { fmt, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { distribution, round, type Distribution } from "./support/stats.js";

interface Operation {
  kind: "deploy" | "rollback";
  label: string;
  startedAt: number;
  endedAt: number;
  from: string | null;
  to: string;
  switchMs: number;
  windowStart: number;
  /** When sarge reported the switch done (old slot drained and in maintenance). */
  drainedAt: number;
  windowEnd: number;
  wallMs: number;
  phases: Record<string, number>;
}

function timeOf(result: RunResult, pattern: RegExp): number | null {
  const line = result.stderrLines.find((candidate) => pattern.test(candidate.text));
  return line ? (lineTime(line.text) ?? line.at) : null;
}

function operation(kind: Operation["kind"], label: string, result: RunResult, from: string | null): Operation {
  const parsed = JSON.parse(result.stdout) as { instances?: Array<{ id: string }>; to?: string; switchMs: number | Record<string, number> };
  const to = kind === "deploy" ? parsed.instances![0]!.id : parsed.to!;
  const switchMs = typeof parsed.switchMs === "number" ? parsed.switchMs : (parsed.switchMs.web ?? 0);
  const drainedAt = timeOf(result, / now routes to /);
  if (drainedAt === null) throw new Error(`no "now routes to" line from ${label}:\n${result.stderr}`);
  const readyAt = timeOf(result, /: ready on port \d+/);
  const stoppedAt = timeOf(result, /: stopped, kept for rollback/);
  return {
    kind,
    label,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    from,
    to,
    switchMs,
    windowStart: readyAt ?? drainedAt - switchMs - 300,
    drainedAt,
    windowEnd: (stoppedAt ?? drainedAt) + 100,
    wallMs: round(result.wallMs, 1),
    phases: deployPhases(result),
  };
}

/**
 * Requests sent after an instance's drain finished that it still answered (`retired`; a rollback
 * that began re-activating it before the request was sent makes it legitimate again), and
 * requests sent between a drain end and the next switch window that the new instance did not
 * answer (`unexpected`, which also catches the next version answering a request that waited in
 * a queue while its switch began).
 */
export function drainViolations(operations: Array<Pick<Operation, "label" | "from" | "to" | "windowStart" | "drainedAt">>, samples: LoadSample[]) {
  // What each instance was at a moment: activated (from its switch window on) or retired (from its drain end on).
  const events = operations
    .flatMap((op) => [
      { at: op.windowStart, id: op.to, kind: "activated" as const, op: op.label },
      ...(op.from ? [{ at: op.drainedAt, id: op.from, kind: "retired" as const, op: op.label }] : []),
    ])
    .sort((a, b) => a.at - b.at);
  const lastEvent = (id: string, before: number) => events.filter((event) => event.id === id && event.at < before).pop();
  // requests sent after an instance's drain finished that it still answered
  const retired: Array<{ op: string; instance: string; msAfterDrain: number; mode: LoadMode }> = [];
  // requests sent after a drain and before the next switch window that the new instance did not answer
  const unexpected: Array<{ op: string; expected: string; got: string | null; msAfterDrain: number; mode: LoadMode }> = [];
  for (const sample of samples) {
    if (sample.error !== null) continue;
    const event = sample.instance ? lastEvent(sample.instance, sample.start) : undefined;
    if (event?.kind === "retired") {
      retired.push({ op: event.op, instance: sample.instance!, msAfterDrain: round(sample.start - event.at, 1), mode: sample.mode });
    }
  }
  operations.forEach((op, index) => {
    const until = operations[index + 1]?.windowStart ?? Infinity;
    for (const sample of samples) {
      if (sample.start > op.drainedAt && sample.start < until && sample.error === null && sample.instance !== op.to) {
        unexpected.push({ op: op.label, expected: op.to, got: sample.instance, msAfterDrain: round(sample.start - op.drainedAt, 1), mode: sample.mode });
      }
    }
  });
  return { retired, unexpected };
}

interface Bucket {
  requests: number;
  failed: number;
  latencyMs: Distribution;
  byMode: Record<LoadMode, { requests: number; failed: number; latencyMs: Distribution }>;
}

function bucket(samples: LoadSample[]): Bucket {
  const of = (list: LoadSample[]) => ({
    requests: list.length,
    failed: list.filter((sample) => sample.error !== null).length,
    latencyMs: distribution(list.map((sample) => sample.end - sample.start)),
  });
  return {
    ...of(samples),
    byMode: {
      "keep-alive": of(samples.filter((sample) => sample.mode === "keep-alive")),
      close: of(samples.filter((sample) => sample.mode === "close")),
    },
  };
}

export async function main(): Promise<BenchOutcome> {
  const deploys = Number(process.env.BENCH_ZD_DEPLOYS ?? 20);
  const rollbacks = Number(process.env.BENCH_ZD_ROLLBACKS ?? 5);
  const workers = Number(process.env.BENCH_ZD_WORKERS ?? 4);
  const restMs = Number(process.env.BENCH_ZD_REST_MS ?? 600);
  const info = machine();
  const modes: LoadMode[] = Array.from({ length: workers }, (_, i) => (i % 2 === 0 ? "keep-alive" : "close"));
  console.log(`\n== 2. zero downtime: ${deploys} deploys + ${rollbacks} rollbacks under load (${workers} clients: ${modes.join(", ")}) ==`);
  const home = await createBenchHome({ rangeSize: 40, keepReleases: 3 });
  let load: ReturnType<typeof startLoad> | null = null;
  try {
    await home.startSupervisor();
    const first = JSON.parse(check(await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v1") }), "first deploy").stdout);
    let active: string = first.instances[0].id;

    load = startLoad(home.webPort, { workers: modes, maxMs: 3_600_000 });
    await sleep(Math.max(3000, restMs * 3));

    // rollbacks spread evenly: after every (deploys / rollbacks) deploys
    const plan: Array<"deploy" | "rollback"> = [];
    const every = rollbacks > 0 ? Math.max(1, Math.floor(deploys / rollbacks)) : Infinity;
    for (let d = 1, r = 0; d <= deploys; d++) {
      plan.push("deploy");
      if (d % every === 0 && r < rollbacks) {
        plan.push("rollback");
        r++;
      }
    }
    while (plan.filter((kind) => kind === "rollback").length < rollbacks) plan.push("rollback");

    const operations: Operation[] = [];
    let version = 1;
    let rolledBack = 0;
    for (const kind of plan) {
      const label = kind === "deploy" ? `deploy v${++version}` : `rollback ${++rolledBack}`;
      const args = kind === "deploy" ? ["deploy", "-", "web", "--json"] : ["rollback", "web", "--json"];
      const result = check(await home.sarge(args, kind === "deploy" ? { input: helloVersion(`v${version}`) } : {}), label);
      const op = operation(kind, label, result, active);
      active = op.to;
      operations.push(op);
      const sofar = load.samples.length;
      const failedSoFar = load.samples.filter((sample) => sample.error !== null).length;
      console.log(`  ${label.padEnd(11)} ${fmt.s(op.wallMs)}  switch ${op.switchMs} ms  (${sofar} requests so far, ${failedSoFar} failed)`);
      await sleep(restMs);
    }
    await sleep(Math.max(2000, restMs * 2));
    const samples = await load.stop();
    load = null;

    // classify every request
    const inWindow = (sample: LoadSample) => operations.some((op) => sample.start <= op.windowEnd && sample.end >= op.windowStart);
    const inCommand = (sample: LoadSample) => operations.some((op) => sample.start <= op.endedAt + 100 && sample.end >= op.startedAt - 100);
    const switching = samples.filter(inWindow);
    const rest = samples.filter((sample) => !inCommand(sample));
    const deployingOther = samples.filter((sample) => inCommand(sample) && !inWindow(sample));

    const { retired, unexpected } = drainViolations(operations, samples);

    const failures = samples.filter((sample) => sample.error !== null);
    const failuresByError: Record<string, number> = {};
    for (const failure of failures) failuresByError[failure.error!] = (failuresByError[failure.error!] ?? 0) + 1;
    const all = bucket(samples);
    const result = {
      total: all,
      switching: bucket(switching),
      atRest: bucket(rest),
      deployingOutsideSwitch: bucket(deployingOther),
      failuresByError,
      failures: failures.slice(0, 50).map((failure) => ({
        mode: failure.mode,
        error: failure.error,
        at: new Date(failure.start).toISOString(),
        nearest: operations.reduce((best, op) => (Math.abs(op.drainedAt - failure.start) < Math.abs(best.drainedAt - failure.start) ? op : best), operations[0]!).label,
      })),
      reachedRetiredAfterDrain: retired.length,
      reachedRetiredSamples: retired.slice(0, 50),
      /** Includes answers from the NEXT version for a request sent just before its switch window was seen to open (it waited in a queue). */
      unexpectedInstance: unexpected.length,
      unexpectedInstanceSamples: unexpected.slice(0, 50),
      switchMs: distribution(operations.map((op) => op.switchMs)),
      operationWallMs: {
        deploy: distribution(operations.filter((op) => op.kind === "deploy").map((op) => op.wallMs)),
        rollback: distribution(operations.filter((op) => op.kind === "rollback").map((op) => op.wallMs)),
      },
      deployPhasesUnderLoadMs: medianPhases(operations.filter((op) => op.kind === "deploy")),
    };
    const resultFile = writeResult("zero-downtime", {
      machine: info,
      deploys,
      rollbacks,
      workers: modes,
      restMs,
      ...result,
      operations: operations.map((op) => ({ ...op, startedAt: new Date(op.startedAt).toISOString(), drainedAt: new Date(op.drainedAt).toISOString() })),
    });

    const ka = all.byMode["keep-alive"];
    const close = all.byMode.close;
    const sw = result.switching.latencyMs;
    const calm = result.atRest.latencyMs;
    console.log(
      `  requests ${fmt.int(all.requests)} (keep-alive ${fmt.int(ka.requests)}, new connection each ${fmt.int(close.requests)}), failed ${all.failed}` +
        (all.failed ? ` ${JSON.stringify(failuresByError)}` : ""),
    );
    console.log(`  latency p50/p99: switching ${sw.p50.toFixed(1)}/${sw.p99.toFixed(1)} ms (${sw.count} requests), at rest ${calm.p50.toFixed(1)}/${calm.p99.toFixed(1)} ms (${calm.count})`);
    console.log(`  requests reaching a retired version after its drain: ${retired.length}; answered by an instance other than the active one between switches: ${unexpected.length}`);
    return {
      name: "zero-downtime",
      resultFile,
      rows: [
        {
          bench: "2",
          measure: `failed requests over ${deploys} deploys + ${rollbacks} rollbacks (keep-alive ${fmt.int(ka.requests)} + conn/request ${fmt.int(close.requests)})`,
          sarge: `${all.failed} of ${fmt.int(all.requests)} (ka ${ka.failed}, conn ${close.failed})`,
          reference: "-",
          ratio: "-",
          target: "0",
        },
        {
          bench: "2",
          measure: "latency p50 / p99 during switch windows vs at rest",
          sarge: `${sw.p50.toFixed(1)} / ${sw.p99.toFixed(1)} ms`,
          reference: `${calm.p50.toFixed(1)} / ${calm.p99.toFixed(1)} ms at rest`,
          ratio: `p99 ${fmt.ratio(sw.p99 / calm.p99)}`,
          target: "-",
        },
        {
          bench: "2",
          measure: "requests reaching a retired version after its drain",
          sarge: String(retired.length),
          reference: `${unexpected.length} answered by a non-active instance between switches`,
          ratio: "-",
          target: "0",
        },
      ],
    };
  } finally {
    if (load) await load.stop();
    await home.destroy();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

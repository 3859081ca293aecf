/**
 * Benchmark 1 (issue 8): deploy latency of examples/hello with a 15-wheel dist.
 *
 *   npm run build && node build/bench/deploy-latency.js     (BENCH_DEPLOY_ROUNDS=N, default 5)
 *
 * Each round, in rotating order:
 *   sarge cold   `sarge deploy - web` with new requirements.txt bytes (a new environment is built)
 *   sarge warm   the same archive twice more (environment reused)
 *   floor cold   by hand: tar -x, venv --without-pip + host pip (same flags and isolation as sarge),
 *                the Procfile's release command, `python app.py` until its port accepts
 *   floor warm   the same with the venv linked instead of built
 * sarge's times are whole processes (spawn to exit of `<home>/bin/sarge`, what a user waits for);
 * its phases come from the timestamps on its progress lines, the steps of a cold environment from
 * its lines in var/log/sarge.log. CPU seconds (user + system of the whole command tree, read from
 * this process's reaped-children times; the app itself is not counted on either side) are the
 * figure least moved by other load on the machine. A first, untimed deploy starts HAProxy.
 * Prints medians and ratios, writes bench/results/deploy-latency.json. No pass/fail.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveInterpreter } from "../src/python-env/interpreter.js";
import { helloArchive } from "./support/apps.js";
import { onCleanup } from "./support/cleanup.js";
import { check } from "./support/cli.js";
import { benchRequirements, writeBenchDist } from "./support/dist.js";
import { floorDeploy, type FloorTimings } from "./support/floor.js";
import { createBenchHome } from "./support/home.js";
import { reapedChildrenCpuSeconds } from "./support/proc.js";
import { deployPhases, environmentSteps, medianPhases } from "./support/phases.js";
import { fmt, formatTable, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

const RELEASE_COMMAND = `python -c "import greeting; print('greeting', greeting.__version__, 'is installed')"`;

function medianFloor(samples: FloorTimings[]): FloorTimings {
  const pick = (key: keyof FloorTimings) => round(median(samples.map((sample) => sample[key])), 1);
  return {
    unpackMs: pick("unpackMs"),
    environmentMs: pick("environmentMs"),
    releaseMs: pick("releaseMs"),
    startMs: pick("startMs"),
    totalMs: pick("totalMs"),
    cpuSeconds: round(median(samples.map((sample) => sample.cpuSeconds)), 2),
  };
}

export interface DeploySample {
  wallMs: number;
  /** durationMs sarge reports itself (from taking the lock to the end). */
  reportedMs: number;
  phases: Record<string, number>;
  /** Inside "environment" when one was built (cold). */
  environment: Record<string, number>;
  /** CPU seconds of the deploy process and everything it waited for (pip, venv, release command); not the app. */
  cpuSeconds: number;
}

export async function main(): Promise<BenchOutcome> {
  const rounds = Number(process.env.BENCH_DEPLOY_ROUNDS ?? 5);
  const info = machine();
  console.log(`\n== 1. deploy latency: examples/hello, 15-wheel dist, ${rounds} rounds ==`);
  const home = await createBenchHome({ rangeSize: 40, withGreetingWheel: false });
  const work = mkdtempSync(join(tmpdir(), "sarge-bench-floor-"));
  const removeWork = onCleanup(`floor folder ${work}`, () => rmSync(work, { recursive: true, force: true }));
  try {
    const wheels = await writeBenchDist(home.paths.dist);
    await home.startSupervisor();
    const interpreter = await resolveInterpreter("python3", home.paths);
    const floorEnv: Record<string, string> = { HOME: process.env.HOME ?? "/root", LANG: process.env.LANG ?? "C.UTF-8", PATH: process.env.PATH ?? "/usr/bin:/bin", MESSAGE: "hello sarge!" };

    const deploy = async (archive: Buffer, what: string): Promise<DeploySample> => {
      const cpuBefore = reapedChildrenCpuSeconds();
      const result = check(await home.sarge(["deploy", "-", "web", "--json"], { input: archive }), `sarge deploy (${what})`);
      const cpuSeconds = round(reapedChildrenCpuSeconds() - cpuBefore, 2);
      const sample = {
        wallMs: round(result.wallMs, 1),
        reportedMs: JSON.parse(result.stdout).durationMs as number,
        phases: deployPhases(result),
        environment: environmentSteps(result, home.paths.sargeLog),
        cpuSeconds,
      };
      console.log(`  sarge ${what.padEnd(5)} ${fmt.s(sample.wallMs)}  (${sample.cpuSeconds.toFixed(2)} s CPU)`);
      return sample;
    };

    const first = await deploy(helloArchive({ "requirements.txt": benchRequirements("first") }), "first");
    const sarge = { cold: [] as DeploySample[], warm: [] as DeploySample[] };
    const floor = { cold: [] as FloorTimings[], warm: [] as FloorTimings[] };
    for (let round_ = 0; round_ < rounds; round_++) {
      const archive = helloArchive({ "requirements.txt": benchRequirements(`cold ${round_}`) });
      const bySarge = async () => {
        sarge.cold.push(await deploy(archive, "cold"));
        sarge.warm.push(await deploy(archive, "warm"));
        sarge.warm.push(await deploy(archive, "warm"));
      };
      const byHand = async () => {
        const cold = await floorDeploy({ archive, dir: join(work, `cold-${round_}`), python: interpreter.executable, dist: home.paths.dist, releaseCommand: RELEASE_COMMAND, env: floorEnv });
        floor.cold.push(cold.timings);
        console.log(`  floor cold  ${fmt.s(cold.timings.totalMs)}  (${cold.timings.cpuSeconds.toFixed(2)} s CPU)`);
        const warm = await floorDeploy({ archive, dir: join(work, `warm-${round_}`), python: interpreter.executable, dist: home.paths.dist, reuseVenv: cold.venv, releaseCommand: RELEASE_COMMAND, env: floorEnv });
        floor.warm.push(warm.timings);
        console.log(`  floor warm  ${fmt.s(warm.timings.totalMs)}  (${warm.timings.cpuSeconds.toFixed(2)} s CPU)`);
        rmSync(join(work, `warm-${round_}`), { recursive: true, force: true });
        rmSync(join(work, `cold-${round_}`), { recursive: true, force: true });
      };
      // rotate so neither side always runs first (on a cold page cache) or last
      if (round_ % 2 === 0) {
        await bySarge();
        await byHand();
      } else {
        await byHand();
        await bySarge();
      }
    }

    const cpu = {
      sargeCold: round(median(sarge.cold.map((sample) => sample.cpuSeconds)), 2),
      sargeWarm: round(median(sarge.warm.map((sample) => sample.cpuSeconds)), 2),
      floorCold: round(median(floor.cold.map((sample) => sample.cpuSeconds)), 2),
      floorWarm: round(median(floor.warm.map((sample) => sample.cpuSeconds)), 2),
    };
    const medians = {
      sargeCold: median(sarge.cold.map((sample) => sample.wallMs)),
      sargeWarm: median(sarge.warm.map((sample) => sample.wallMs)),
      floorCold: median(floor.cold.map((sample) => sample.totalMs)),
      floorWarm: median(floor.warm.map((sample) => sample.totalMs)),
    };
    const phases = { cold: medianPhases(sarge.cold), warm: medianPhases(sarge.warm) };
    const coldEnvironment = medianPhases(sarge.cold.map((sample) => ({ phases: sample.environment })));
    const floorParts = { cold: medianFloor(floor.cold), warm: medianFloor(floor.warm) };

    console.log(`\nmedians (ms): sarge phases from its progress-line timestamps; floor steps timed by hand`);
    const phaseNames = [...new Set([...Object.keys(phases.cold), ...Object.keys(phases.warm)])];
    console.log(
      formatTable(
        ["sarge phase", "cold", "warm"],
        [
          ...phaseNames.map((name) => [name, String(phases.cold[name] ?? "-"), String(phases.warm[name] ?? "-")]),
          ["whole process", round(medians.sargeCold, 1).toString(), round(medians.sargeWarm, 1).toString()],
          ["CPU seconds (sarge, pip, venv, release; not the app)", String(cpu.sargeCold), String(cpu.sargeWarm)],
        ],
      ),
    );
    console.log(
      formatTable(
        ["inside sarge's cold \"environment\" (sarge.log)", "cold"],
        Object.entries(coldEnvironment).map(([step, ms]) => [step, String(ms)]),
      ),
    );
    console.log(
      formatTable(
        ["floor step", "cold", "warm"],
        [
          ["tar -x", floorParts.cold.unpackMs, floorParts.warm.unpackMs],
          ["venv --without-pip + host pip | link venv", floorParts.cold.environmentMs, floorParts.warm.environmentMs],
          ["release command", floorParts.cold.releaseMs, floorParts.warm.releaseMs],
          ["spawn until the port accepts", floorParts.cold.startMs, floorParts.warm.startMs],
          ["total", floorParts.cold.totalMs, floorParts.warm.totalMs],
          ["CPU seconds (tar, venv, pip, release; not the app)", floorParts.cold.cpuSeconds, floorParts.warm.cpuSeconds],
        ].map((row) => row.map(String)),
      ),
    );

    const resultFile = writeResult("deploy-latency", {
      machine: info,
      rounds,
      dist: { wheels: wheels.length, files: wheels },
      interpreter,
      medians: Object.fromEntries(Object.entries(medians).map(([key, value]) => [key, round(value, 1)])),
      ratios: { coldOverFloor: round(medians.sargeCold / medians.floorCold, 3), warmOverFloor: round(medians.sargeWarm / medians.floorWarm, 3), coldCpuOverFloor: round(cpu.sargeCold / cpu.floorCold, 3) },
      cpuSeconds: cpu,
      phases,
      coldEnvironmentSteps: coldEnvironment,
      floorSteps: floorParts,
      firstDeploy: first,
      samples: { sarge, floor },
    });
    return {
      name: "deploy-latency",
      resultFile,
      rows: [
        {
          bench: "1",
          measure: `cold deploy (new requirements, 15 wheels), median of ${sarge.cold.length}`,
          sarge: fmt.s(medians.sargeCold),
          reference: `${fmt.s(medians.floorCold)} by hand (tar, venv, pip, release, start)`,
          ratio: fmt.ratio(medians.sargeCold / medians.floorCold),
          target: "≤ 1.1× floor",
        },
        {
          bench: "1",
          measure: "cold deploy CPU seconds (deploy tree: sarge/tar, venv, pip, release; not the app)",
          sarge: `${cpu.sargeCold.toFixed(2)} s`,
          reference: `${cpu.floorCold.toFixed(2)} s by hand`,
          ratio: fmt.ratio(cpu.sargeCold / cpu.floorCold),
          target: "-",
        },
        {
          bench: "1",
          measure: `warm deploy (unchanged requirements), median of ${sarge.warm.length}`,
          sarge: fmt.s(medians.sargeWarm),
          reference: `${fmt.s(medians.floorWarm)} by hand (tar, link venv, release, start)`,
          ratio: fmt.ratio(medians.sargeWarm / medians.floorWarm),
          target: "≤ 2.5× floor",
        },
      ],
    };
  } finally {
    await home.destroy();
    await removeWork();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

/**
 * Benchmark 6 (issue 8): the builtin supervisor daemon with 1, 20 and 100 programs, next to a
 * private supervisord running the same programs.
 *
 *   npm run build && node build/bench/supervisor.js
 *     BENCH_SUP_SIZES (1,20,100), BENCH_SUP_WINDOW_S (5), BENCH_SUP_CRASHES (5)
 *
 * Programs: `exec <python> -m http.server <port> --bind 127.0.0.1`, each on its own port (the real
 * interpreter, not a pyenv shim). They are added through the daemon's socket (what sarge's
 * commands do) up to each size; once every port answers and 1.5 s have passed, the daemon's RSS is
 * read from /proc every 0.5 s and its CPU time (user + system) over a window of BENCH_SUP_WINDOW_S
 * idle seconds. Crash to serving: at 20 programs, SIGKILL to one program's process, then the time
 * until its port accepts a connection again (polled every 5 ms), for BENCH_SUP_CRASHES different
 * programs, twice each: first after it has been up for more than 10 s (a service that dies after
 * running fine: the builtin restarts it at once), then again as soon as it answers (a crash loop:
 * the builtin's backoff starts at 1 s, supervisord counts it as a failed start and backs off too).
 * supervisord gets the same programs (autorestart=true, startsecs=1) and the same measurements.
 * Writes bench/results/supervisor.json. No pass/fail.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connectBuiltin } from "../src/supervise/builtin/client.js";
import type { ProgramSpec } from "../src/supervise/supervisor.js";
import { createBenchHome } from "./support/home.js";
import { accepts, freePortBlock } from "../test/support/ports.js";
import { cpuSecondsOf, memoryOf, waitForPort } from "./support/proc.js";
import { fmt, formatTable, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { distribution, median, round } from "./support/stats.js";
import { startSupervisord, type PeerProgram, type PrivateSupervisord } from "./support/supervisord.js";

interface Footprint {
  programs: number;
  /** From the first start request until every port accepts. */
  startAllMs: number;
  /** CPU seconds the daemon used while starting them. */
  startCpuSeconds: number;
  rssMiB: { median: number; max: number };
  peakRssMiB: number;
  /** Idle CPU over the window, percent of one core. */
  idleCpuPercent: number;
}

async function footprint(pid: number, programs: number, startAllMs: number, startCpuSeconds: number, windowSeconds: number): Promise<Footprint> {
  await sleep(1500);
  const rss: number[] = [];
  const cpuBefore = cpuSecondsOf(pid);
  const started = performance.now();
  while (performance.now() - started < windowSeconds * 1000) {
    rss.push(memoryOf(pid).rss);
    await sleep(500);
  }
  const cpu = cpuSecondsOf(pid) - cpuBefore;
  const elapsed = (performance.now() - started) / 1000;
  const MiB = 1024 ** 2;
  return {
    programs,
    startAllMs: round(startAllMs, 0),
    startCpuSeconds: round(startCpuSeconds, 2),
    rssMiB: { median: round(median(rss) / MiB, 1), max: round(Math.max(...rss) / MiB, 1) },
    peakRssMiB: round(memoryOf(pid).hwm / MiB, 1),
    idleCpuPercent: round((cpu / elapsed) * 100, 2),
  };
}

/** Up at least this long before the first crash: the builtin's STABLE_MS is 10 s. */
const STABLE_UP_MS = 12_000;

/**
 * For each of the first `count` programs: a crash after a stable run, then one right after it
 * came back. Waits first until the stage's programs have been up for STABLE_UP_MS.
 */
async function crashSeries(count: number, stageStarted: number, pidOf: (index: number) => Promise<number>, portOf: (index: number) => number) {
  await sleep(Math.max(0, STABLE_UP_MS - (performance.now() - stageStarted)));
  const stable: number[] = [];
  const loop: number[] = [];
  for (let c = 0; c < count; c++) {
    stable.push(round(await crashToServing(await pidOf(c), portOf(c)), 1));
    loop.push(round(await crashToServing(await pidOf(c), portOf(c)), 1));
  }
  return { stable, loop };
}

/** SIGKILL a program's process; ms until its port refuses and then accepts again. */
async function crashToServing(pid: number, port: number): Promise<number> {
  const killedAt = performance.now();
  process.kill(pid, "SIGKILL");
  // the dying process may still hold the listening socket for a moment
  while (await accepts(port)) {
    if (performance.now() - killedAt > 5000) throw new Error(`port ${port} still accepts 5 s after SIGKILL to ${pid}`);
    await sleep(1);
  }
  await waitForPort(port, 120_000, 5);
  return performance.now() - killedAt;
}

export async function main(): Promise<BenchOutcome> {
  const sizes = (process.env.BENCH_SUP_SIZES ?? "1,20,100").split(",").map(Number);
  const windowSeconds = Number(process.env.BENCH_SUP_WINDOW_S ?? 5);
  const crashes = Number(process.env.BENCH_SUP_CRASHES ?? 5);
  const crashAt = sizes.includes(20) ? 20 : sizes[sizes.length - 1]!;
  const largest = Math.max(...sizes);
  const info = machine();
  console.log(`\n== 6. supervisor: builtin daemon vs supervisord with ${sizes.join(", ")} programs; crash to serving at ${crashAt} ==`);
  const python = execFileSync("python3", ["-c", "import os, sys; print(os.path.realpath(sys.executable))"], { encoding: "utf8" }).trim();
  const home = await createBenchHome({ rangeSize: 10, withGreetingWheel: false });
  let peer: PrivateSupervisord | null = null;
  try {
    const static_ = join(home.paths.root, "static");
    mkdirSync(static_);
    const base = await freePortBlock(largest * 2);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", LANG: process.env.LANG ?? "C.UTF-8" };
    const name = (i: number) => `prog${String(i).padStart(3, "0")}`;
    const command = (port: number) => `exec ${python} -m http.server ${port} --bind 127.0.0.1`;

    // --- builtin ---
    const daemonPid = await home.startSupervisor();
    const client = await connectBuiltin(home.paths);
    const builtin: Footprint[] = [];
    let builtinCrash = { stable: [] as number[], loop: [] as number[] };
    try {
      let running = 0;
      for (const size of sizes) {
        const cpu0 = cpuSecondsOf(daemonPid);
        const t0 = performance.now();
        const specs: ProgramSpec[] = [];
        for (let i = running; i < size; i++) {
          specs.push({ name: name(i), command: command(base + i), cwd: static_, env, logFile: join(home.paths.log, `${name(i)}.log`) });
        }
        await Promise.all(specs.map((spec) => client.start(spec)));
        for (let i = running; i < size; i++) await waitForPort(base + i, 120_000, 10);
        const startAllMs = performance.now() - t0;
        const startCpu = cpuSecondsOf(daemonPid) - cpu0;
        running = size;
        const measured = await footprint(daemonPid, size, startAllMs, startCpu, windowSeconds);
        builtin.push(measured);
        console.log(`  builtin     ${String(size).padStart(3)} programs: RSS ${measured.rssMiB.median} MiB, idle CPU ${measured.idleCpuPercent}%, all started in ${fmt.s(startAllMs)}`);
        if (size === crashAt) {
          const pidOf = async (c: number) => {
            const pid = (await client.status()).find((status) => status.name === name(c))?.pid;
            if (!pid) throw new Error(`the builtin supervisor reports no pid for ${name(c)}`);
            return pid;
          };
          builtinCrash = await crashSeries(Math.min(crashes, size), t0, pidOf, (c) => base + c);
          console.log(`  builtin     crash to serving after >10 s up: ${builtinCrash.stable.map(Math.round).join(", ")} ms; again at once: ${builtinCrash.loop.map(Math.round).join(", ")} ms`);
        }
      }
    } finally {
      await client.close();
    }
    await home.stopSupervisor();

    // --- supervisord, same programs ---
    const peerFootprints: Footprint[] = [];
    let peerCrash = { stable: [] as number[], loop: [] as number[] };
    // supervisord runs the command itself, without a shell: no `exec` in front
    const program = (i: number): PeerProgram => ({ name: name(i), command: `${python} -m http.server ${base + largest + i} --bind 127.0.0.1`, directory: static_, environment: env });
    let running = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      let cpu0 = 0;
      const added = Array.from({ length: size - running }, (_, k) => program(running + k));
      let current: PrivateSupervisord;
      if (!peer) {
        current = peer = await startSupervisord(added);
      } else {
        current = peer;
        cpu0 = cpuSecondsOf(current.pid);
        await current.add(added);
      }
      for (let i = running; i < size; i++) await waitForPort(base + largest + i, 120_000, 10);
      const startAllMs = performance.now() - t0;
      const startCpu = cpuSecondsOf(current.pid) - cpu0;
      running = size;
      await current.waitRunning();
      const measured = await footprint(current.pid, size, startAllMs, startCpu, windowSeconds);
      peerFootprints.push(measured);
      console.log(`  supervisord ${String(size).padStart(3)} programs: RSS ${measured.rssMiB.median} MiB, idle CPU ${measured.idleCpuPercent}%, all started in ${fmt.s(startAllMs)}`);
      if (size === crashAt) {
        peerCrash = await crashSeries(Math.min(crashes, size), t0, (c) => current.pidOf(name(c)), (c) => base + largest + c);
        console.log(`  supervisord crash to serving after >10 s up: ${peerCrash.stable.map(Math.round).join(", ")} ms; again at once: ${peerCrash.loop.map(Math.round).join(", ")} ms`);
      }
    }
    await peer?.stop();
    peer = null;

    console.log(
      "\n" +
        formatTable(
          ["programs", "builtin RSS", "builtin idle CPU", "supervisord RSS", "supervisord idle CPU"],
          sizes.map((size, i) => [String(size), `${builtin[i]!.rssMiB.median} MiB`, `${builtin[i]!.idleCpuPercent}%`, `${peerFootprints[i]!.rssMiB.median} MiB`, `${peerFootprints[i]!.idleCpuPercent}%`]),
        ),
    );
    const crash = {
      afterStableRun: { builtin: distribution(builtinCrash.stable), supervisord: distribution(peerCrash.stable) },
      crashLoop: { builtin: distribution(builtinCrash.loop), supervisord: distribution(peerCrash.loop) },
    };
    const resultFile = writeResult("supervisor", {
      machine: info,
      python,
      windowSeconds,
      builtin,
      supervisord: peerFootprints,
      crashToServingMs: { programs: crashAt, ...crash, samples: { builtin: builtinCrash, supervisord: peerCrash } },
    });
    const at = (list: Footprint[], pick: (f: Footprint) => string) => list.map(pick).join(" / ");
    const biggest = sizes.length - 1;
    return {
      name: "supervisor",
      resultFile,
      rows: [
        {
          bench: "6",
          measure: `daemon RSS, ${sizes.join(" / ")} programs`,
          sarge: `${at(builtin, (f) => f.rssMiB.median.toFixed(0))} MiB`,
          reference: `supervisord ${at(peerFootprints, (f) => f.rssMiB.median.toFixed(0))} MiB`,
          ratio: fmt.ratio(builtin[biggest]!.rssMiB.median / peerFootprints[biggest]!.rssMiB.median),
          target: "≤ 1.3× supervisord at 100",
        },
        {
          bench: "6",
          measure: `daemon idle CPU, ${sizes.join(" / ")} programs (% of one core)`,
          sarge: `${at(builtin, (f) => f.idleCpuPercent.toFixed(2))} %`,
          reference: `supervisord ${at(peerFootprints, (f) => f.idleCpuPercent.toFixed(2))} %`,
          ratio: "-",
          target: "-",
        },
        {
          bench: "6",
          measure: `crash (SIGKILL) to serving after > 10 s up, median of ${builtinCrash.stable.length} (${crashAt} programs)`,
          sarge: `${fmt.ms(crash.afterStableRun.builtin.p50)} (max ${fmt.ms(crash.afterStableRun.builtin.max)})`,
          reference: `supervisord ${fmt.ms(crash.afterStableRun.supervisord.p50)} (max ${fmt.ms(crash.afterStableRun.supervisord.max)})`,
          ratio: fmt.ratio(crash.afterStableRun.builtin.p50 / crash.afterStableRun.supervisord.p50),
          target: "≤ 1.5 s",
        },
        {
          bench: "6",
          measure: `crash again right after the restart (crash loop: backoff), median of ${builtinCrash.loop.length}`,
          sarge: `${fmt.ms(crash.crashLoop.builtin.p50)} (max ${fmt.ms(crash.crashLoop.builtin.max)})`,
          reference: `supervisord ${fmt.ms(crash.crashLoop.supervisord.p50)} (max ${fmt.ms(crash.crashLoop.supervisord.max)})`,
          ratio: fmt.ratio(crash.crashLoop.builtin.p50 / crash.crashLoop.supervisord.p50),
          target: "-",
        },
      ],
    };
  } finally {
    await peer?.stop();
    await home.destroy();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

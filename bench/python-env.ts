/**
 * Benchmark: Python environments (issue 4).
 *
 * A 15-wheel dist (hand-made, offline) and, in the same run, alternating:
 *   fresh  sarge's prepareEnvironment for a new key (requirements.txt changed)
 *   reuse  prepareEnvironment again for an unchanged redeploy (another instance folder)
 *   floor  by hand: `python -m venv --without-pip` + host pip `--python` (same interpreter, same isolation)
 *   naive  by hand: `python -m venv` (with pip) + that venv's own pip
 * Prints medians and ratios, writes bench/results/python-env.json.
 * Targets: reuse < 0.1 s; fresh <= 1.1 x floor; naive / fresh >= 2.
 *
 *   npm run build && node build/bench/python-env.js        (BENCH_RUNS=N, default 5)
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { childEnvironment } from "../src/python-env/child-env.js";
import { prepareEnvironment } from "../src/python-env/index.js";
import { resolveInterpreter } from "../src/python-env/interpreter.js";
import { homePaths } from "../src/home/paths.js";
import { packageRoot } from "../src/util/package-root.js";
import { writeBenchWheels } from "./support/dist.js";
import { median } from "./support/stats.js";

const run = promisify(execFile);

/**
 * CPU seconds used so far by this process and its waited-for children (and theirs): utime, stime,
 * cutime, cstime of /proc/self/stat. Wall time is what the targets are about, but on a shared,
 * loaded machine CPU time is the steadier witness of the same comparison.
 */
function cpuSeconds(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / clockTicks;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface Sample {
  wall: number;
  cpu: number;
}

async function timed(action: () => Promise<unknown>): Promise<Sample> {
  const cpu = cpuSeconds();
  const started = performance.now();
  await action();
  return { wall: (performance.now() - started) / 1000, cpu: cpuSeconds() - cpu };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return total;
}

export async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const loadavgAtStart = loadavg();
  const work = await mkdtemp(join(tmpdir(), "sarge-bench-pyenv-"));
  try {
    const dist = join(work, "dist");
    const started = performance.now();
    // 15 projects: an app on top of a small tree
    await writeBenchWheels(dist, 15);
    const distMs = performance.now() - started;
    const paths = homePaths(join(work, "home"));
    await mkdir(paths.deploy, { recursive: true });
    const interpreter = await resolveInterpreter("python3", paths);
    const python = interpreter.executable;
    const env = childEnvironment({ pip: true });
    const pipArgs = (req: string) => ["install", "--isolated", "--no-index", "--find-links", dist, "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r", req];

    const samples = { fresh: [] as Sample[], reuse: [] as Sample[], floor: [] as Sample[], naive: [] as Sample[] };
    let envBytes = 0;
    for (let i = 0; i < runs; i++) {
      const requirements = `# run ${i}\nbenchpkg00\n`;
      const byHand = join(work, `byhand-${i}`);
      await mkdir(byHand, { recursive: true });
      const req = join(byHand, "requirements.txt");
      await writeFile(req, requirements);

      const sarge = async () => {
        const app = join(paths.deploy, `web-fresh${i}`);
        await mkdir(app, { recursive: true });
        await writeFile(join(app, "requirements.txt"), requirements);
        let built = "";
        samples.fresh.push(
          await timed(async () => {
            const result = await prepareEnvironment({ paths, python: "python3", dist, appDir: app, log: () => undefined });
            if (!result || result.reused) throw new Error("expected a fresh build");
            built = result.envDir;
          }),
        );
        if (i === 0) envBytes = await folderBytes(built);
        const again = join(paths.deploy, `web-again${i}`);
        await mkdir(again, { recursive: true });
        await writeFile(join(again, "requirements.txt"), requirements);
        samples.reuse.push(
          await timed(async () => {
            const result = await prepareEnvironment({ paths, python: "python3", dist, appDir: again, log: () => undefined });
            if (!result?.reused) throw new Error("expected reuse");
          }),
        );
      };
      const floor = async () => {
        const venv = join(byHand, "floor");
        samples.floor.push(
          await timed(async () => {
            await run(python, ["-m", "venv", "--without-pip", venv], { env });
            await run(python, ["-m", "pip", "--python", join(venv, "bin", "python"), ...pipArgs(req)], { env, cwd: byHand });
          }),
        );
      };
      const naive = async () => {
        const venv = join(byHand, "naive");
        samples.naive.push(
          await timed(async () => {
            await run(python, ["-m", "venv", venv], { env });
            await run(join(venv, "bin", "python"), ["-m", "pip", ...pipArgs(req)], { env, cwd: byHand });
          }),
        );
      };
      // rotate the order so no route always runs first (cold caches) or last
      const order = [sarge, floor, naive];
      for (let k = 0; k < order.length; k++) await order[(k + i) % order.length]!();
      await rm(byHand, { recursive: true, force: true });
    }

    const medianOf = (pick: (sample: Sample) => number) => ({
      fresh: median(samples.fresh.map(pick)),
      reuse: median(samples.reuse.map(pick)),
      floor: median(samples.floor.map(pick)),
      naive: median(samples.naive.map(pick)),
    });
    const medians = medianOf((sample) => sample.wall);
    const cpuMedians = medianOf((sample) => sample.cpu);
    const ratios = { freshOverFloor: medians.fresh / medians.floor, naiveOverFresh: medians.naive / medians.fresh };
    const cpuRatios = { freshOverFloor: cpuMedians.fresh / cpuMedians.floor, naiveOverFresh: cpuMedians.naive / cpuMedians.fresh };
    const targets = {
      reuseUnder100ms: medians.reuse < 0.1,
      freshWithin110PercentOfFloor: ratios.freshOverFloor <= 1.1,
      atLeast2xFasterThanNaive: ratios.naiveOverFresh >= 2,
    };
    const result = {
      benchmark: "python-env",
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavgAtEnd: loadavg(), loadavgAtStart, node: process.version, python: interpreter.full, pythonExecutable: python },
      dist: { wheels: 15, writeMs: Math.round(distMs), envBytes },
      runs,
      wallSeconds: { medians, ratios },
      cpuSeconds: { medians: cpuMedians, ratios: cpuRatios },
      targets,
      samples,
    };

    const f = (s: number) => `${s.toFixed(3)} s`;
    const row = (label: string, key: keyof typeof medians) => `  ${label.padEnd(42)} ${f(medians[key])}   cpu ${f(cpuMedians[key])}`;
    console.log(`python-env benchmark: 15 hand-made wheels (written in ${Math.round(distMs)} ms), env ${(envBytes / 1e6).toFixed(1)} MB, ${runs} runs, medians`);
    console.log(`  (load average ${loadavgAtStart.map((l) => l.toFixed(1)).join(" ")} at start on ${cpus().length} cpus)`);
    console.log(row("fresh build (sarge)", "fresh"));
    console.log(row("reuse (sarge, unchanged redeploy)", "reuse") + `   target < 0.100 s: ${targets.reuseUnder100ms ? "met" : "MISSED"}`);
    console.log(row("floor: venv --without-pip + host pip", "floor"));
    console.log(row("naive: venv with pip + its own pip", "naive"));
    console.log(`  fresh / floor = ${ratios.freshOverFloor.toFixed(3)} (cpu ${cpuRatios.freshOverFloor.toFixed(3)})   target <= 1.1: ${targets.freshWithin110PercentOfFloor ? "met" : "MISSED"}`);
    console.log(`  naive / fresh = ${ratios.naiveOverFresh.toFixed(2)} (cpu ${cpuRatios.naiveOverFresh.toFixed(2)})    target >= 2: ${targets.atLeast2xFasterThanNaive ? "met" : "MISSED"}`);

    const resultsDir = join(packageRoot, "bench", "results");
    await mkdir(resultsDir, { recursive: true });
    await writeFile(join(resultsDir, "python-env.json"), JSON.stringify(result, null, 2) + "\n");
    console.log(`  written to bench/results/python-env.json`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}

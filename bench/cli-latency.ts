/**
 * Benchmark 5 (issue 8): CLI latency of `sarge list` and `sarge status` with 1, 10 and 50
 * instances, next to `supervisorctl status` of a private supervisord running the same programs.
 *
 *   npm run build && node build/bench/cli-latency.js     (BENCH_CLI_RUNS=N, default 10; BENCH_CLI_SIZES=1,10,50)
 *
 * How the instances are made, cheaply and honestly: one home per size, each with one deploy of
 * examples/hello whose Procfile has N process types (web, w01..w49, all `python app.py`):
 * `sarge deploy - web w01 ... w49` makes exactly N instances, all running (real processes with
 * their own ports, folders, logs and state entries; web routed through HAProxy). Raising
 * keep_releases and deploying N times would give the same state entries, but N-1 of them stopped,
 * and cost N deploys. The peer runs the same commands in the same folders on other ports, N
 * programs, under its own supervisord. All homes and peers are up at once and every command of
 * every size is timed in one interleaved loop, so background load hits all sizes alike.
 *
 * Every figure is the median of whole-process runs (spawn to exit of `<home>/bin/sarge`, what a
 * user waits for), the commands interleaved. Next to them (median of 5): `node -e 0` (runtime
 * start-up), importing sarge's CLI module graph without running a command, and `sarge --help`,
 * which split the time into start-up, module loading and work. At the largest size, one
 * `sarge list` runs under `node --cpu-prof` (self time per package) and one with a module log
 * (how many module files it loads, per package).
 * Writes bench/results/cli-latency.json. No pass/fail.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { readState } from "../src/instance/state.js";
import { packageRoot, sargeBin } from "../src/util/package-root.js";
import { helloArchive } from "./support/apps.js";
import { onCleanup } from "./support/cleanup.js";
import { check, run } from "./support/cli.js";
import { createBenchHome, type BenchHome } from "./support/home.js";
import { freePortBlock } from "../test/support/ports.js";
import { fmt, formatTable, isMain, machine, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";
import { startSupervisord, type PeerProgram, type PrivateSupervisord } from "./support/supervisord.js";

const RELEASE = `release: python -c "import greeting"`;

function typesFor(count: number): string[] {
  return ["web", ...Array.from({ length: count - 1 }, (_, i) => `w${String(i + 1).padStart(2, "0")}`)];
}

/** Median wall time of `runs` whole-process runs of each command, interleaved in rotating order. */
async function timeCommands(commands: Array<{ label: string; command: string; args: string[]; okCodes?: number[] }>, runs: number): Promise<Record<string, { medianMs: number; samplesMs: number[] }>> {
  const samples: Record<string, number[]> = Object.fromEntries(commands.map((command) => [command.label, []]));
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(k + i) % commands.length]!;
      const result = await run(command.command, command.args, { cwd: packageRoot });
      if (!(command.okCodes ?? [0]).includes(result.code ?? -1)) throw new Error(`${command.label} failed (exit ${result.code}): ${result.stderr}${result.stdout}`);
      samples[command.label]!.push(round(result.wallMs, 1));
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([label, values]) => [label, { medianMs: round(median(values), 1), samplesMs: values }]));
}

/** A module file's package, in a profile's URL or the module log: node_modules/<name>/ (scoped too). */
const dependencyFile = /node_modules\/((?:@[^/]+\/)?[^/]+)\//;
/** sarge's own code: its ES modules, its CLI bundles, bin/sarge. */
const sargeFile = /\/build\/(src|cli)\/|\/bin\/sarge$/;

/** Self time of one profiled run, by where the code lives: a dependency, sarge, Node itself, or native work. */
function profileByPackage(file: string): Array<{ where: string; ms: number; files: number }> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const whereOf = new Map<number, string>();
  const filesOf = new Map<string, Set<string>>();
  for (const node of profile.nodes) {
    const { url, functionName } = node.callFrame;
    let where: string;
    const dependency = dependencyFile.exec(url);
    if (dependency) where = `dependency ${dependency[1]}`;
    else if (sargeFile.test(url)) where = "sarge's own code";
    else if (url.startsWith("node:")) where = "Node internals (module loader, fs, net, ...)";
    else if (url === "") where = functionName.startsWith("(") ? `${functionName} (native: compiling, GC, waiting)` : "native / builtins";
    else where = url.replace(/^file:\/\//, "");
    whereOf.set(node.id, where);
    if (url) filesOf.set(where, (filesOf.get(where) ?? new Set()).add(url));
  }
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const where = whereOf.get(id) ?? "unknown";
    totals.set(where, (totals.get(where) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return [...totals.entries()].map(([where, ms]) => ({ where, ms: round(ms, 1), files: filesOf.get(where)?.size ?? 0 })).sort((a, b) => b.ms - a.ms);
}

async function waitAllRunning(home: BenchHome, count: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const listed = JSON.parse(check(await home.sarge(["list", "--json"]), "sarge list --json").stdout) as Array<{ process: string }>;
    if (listed.length === count && listed.every((instance) => instance.process === "running")) return;
    if (Date.now() - started > 60_000) throw new Error(`expected ${count} running instances, sarge list shows ${JSON.stringify(listed.map((i) => i.process))}`);
    await sleep(250);
  }
}

export async function main(): Promise<BenchOutcome> {
  const runs = Number(process.env.BENCH_CLI_RUNS ?? 10);
  const sizes = (process.env.BENCH_CLI_SIZES ?? "1,10,50").split(",").map(Number);
  const largest = Math.max(...sizes);
  const info = machine();
  console.log(`\n== 5. CLI latency: sarge list / status with ${sizes.join(", ")} instances vs supervisorctl status, median of ${runs} ==`);
  const profileDir = mkdtempSync(join(tmpdir(), "sarge-bench-prof-"));
  const removeProfiles = onCleanup(`profiles ${profileDir}`, () => rmSync(profileDir, { recursive: true, force: true }));
  const setups: Array<{ size: number; home: BenchHome; peer: PrivateSupervisord | null; deployMs: number }> = [];
  try {
    // one home per size, all up at once, so that every size is timed in the same minutes
    for (const size of sizes) {
      const setup: (typeof setups)[number] = { size, home: await createBenchHome({ rangeSize: size + 10, keepReleases: 0 }), peer: null, deployMs: 0 };
      setups.push(setup);
      const { home } = setup;
      await home.startSupervisor();
      const procfile = [...typesFor(size).map((type) => `${type}: python app.py`), RELEASE].join("\n") + "\n";
      const deployed = check(await home.sarge(["deploy", "-", ...typesFor(size)], { input: helloArchive({ Procfile: procfile }), timeoutMs: 300_000 }), `deploy of ${size} process types`);
      setup.deployMs = round(deployed.wallMs, 1);
      await waitAllRunning(home, size);

      // the peer: the same commands in the same folders, on ports of their own
      const state = readState(home.paths);
      const base = await freePortBlock(size);
      const programs: PeerProgram[] = Object.values(state.instances).map((instance, index) => ({
        name: instance.id,
        command: "/bin/sh -c 'exec python app.py'",
        directory: join(home.paths.deploy, instance.id),
        environment: {
          PATH: `${join(home.paths.deploy, instance.id, ".venv", "bin")}:${process.env.PATH ?? "/usr/bin:/bin"}`,
          VIRTUAL_ENV: join(home.paths.deploy, instance.id, ".venv"),
          HOME: process.env.HOME ?? "/root",
          LANG: process.env.LANG ?? "C.UTF-8",
          PORT: String(base + index),
          MESSAGE: "hello sarge!",
          SARGE_INSTANCE: instance.id,
        },
      }));
      setup.peer = await startSupervisord(programs);
      await setup.peer.waitRunning();
      console.log(`  ${size} instance(s) deployed in ${fmt.s(deployed.wallMs)}, and ${size} program(s) under a private supervisord`);
    }
    const largestHome = setups.find((setup) => setup.size === largest)!.home;
    const wrapper = (home: BenchHome) => join(home.paths.bin, "sarge");
    const importOnly = join(dirname(fileURLToPath(import.meta.url)), "support", "import-only.js");

    const floors = await timeCommands(
      [
        { label: "node -e 0", command: process.execPath, args: ["-e", "0"] },
        { label: "import sarge's CLI modules only", command: process.execPath, args: [importOnly] },
        { label: "sarge --help", command: wrapper(largestHome), args: ["--help"] },
      ],
      Math.min(runs, 5),
    );
    console.log(`  start-up floors: ${Object.entries(floors).map(([label, value]) => `${label} ${value.medianMs} ms`).join(", ")}`);

    const timed = await timeCommands(
      setups.flatMap(({ size, home, peer }) => [
        { label: `sarge list @${size}`, command: wrapper(home), args: ["list"] },
        { label: `sarge status @${size}`, command: wrapper(home), args: ["status"] },
        // exit 3 when a program is not RUNNING: still a whole status call
        { label: `supervisorctl status @${size}`, command: "supervisorctl", args: ["-c", peer!.config, "status"], okCodes: [0, 3] },
      ]),
      runs,
    );
    const bySize = setups.map(({ size, deployMs }) => ({
      instances: size,
      deployMs,
      sarge: Object.fromEntries(["sarge list", "sarge status", "supervisorctl status"].map((label) => [label, timed[`${label} @${size}`]!])),
    }));
    for (const entry of bySize) {
      console.log(`  ${String(entry.instances).padStart(3)} instances: ${Object.entries(entry.sarge).map(([label, value]) => `${label} ${value.medianMs} ms`).join(", ")}`);
    }
    const home = largestHome;

    // where one `sarge list` at the largest size spends its time
    check(await run(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "100", "--cpu-prof-dir", profileDir, sargeBin, "--home", home.root, "list"]), "profiled sarge list");
    const profileFile = join(profileDir, readdirSync(profileDir).find((file) => file.endsWith(".cpuprofile"))!);
    const profile = profileByPackage(profileFile);
    const profiledMs = round(profile.reduce((sum, entry) => sum + entry.ms, 0), 1);
    console.log(`\n  one \`sarge list\` at ${largest} instances under --cpu-prof (${profiledMs} ms profiled), self time by where the code lives:`);
    console.log(formatTable(["where", "self ms", "files seen in samples"], profile.slice(0, 12).map((entry) => [entry.where, entry.ms.toFixed(1), String(entry.files)])).replace(/^/gm, "    "));

    // how many module files one `sarge list` (and `sarge --help`) loads, by package
    const modulesLoaded = async (args: string[], file: string): Promise<string[]> => {
      const log = join(profileDir, file);
      check(
        await run(process.execPath, ["--import", join(dirname(fileURLToPath(import.meta.url)), "support", "module-log.js"), sargeBin, ...args], {
          env: { ...process.env, SARGE_BENCH_MODULE_LOG: log },
        }),
        `sarge ${args.join(" ")} with the module log`,
      );
      return [...new Set(readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => line.replace(/ \(commonjs\)$/, "")))];
    };
    const loaded = await modulesLoaded(["--home", home.root, "list"], "modules-list.txt");
    const loadedByHelp = await modulesLoaded(["--help"], "modules-help.txt");
    const modulesByPackage: Record<string, number> = {};
    for (const url of loaded) {
      const where = dependencyFile.exec(url)?.[1] ?? (sargeFile.test(url) ? "sarge" : "other");
      modulesByPackage[where] = (modulesByPackage[where] ?? 0) + 1;
    }
    const packagesByCount = Object.entries(modulesByPackage).sort((a, b) => b[1] - a[1]);
    console.log(
      `  module files one \`sarge list\` loads: ${loaded.length} (${packagesByCount.map(([where, count]) => `${where} ${count}`).join(", ")}); \`sarge --help\` loads ${loadedByHelp.length}`,
    );

    const table = formatTable(
      ["instances", "sarge list", "sarge status", "supervisorctl status"],
      bySize.map((entry) => [String(entry.instances), `${entry.sarge["sarge list"]!.medianMs} ms`, `${entry.sarge["sarge status"]!.medianMs} ms`, `${entry.sarge["supervisorctl status"]!.medianMs} ms`]),
    );
    console.log(table);
    const resultFile = writeResult("cli-latency", { machine: info, runs, floors, bySize, profile: { instances: largest, profiledMs, byWhere: profile }, modulesLoadedBySargeList: { total: loaded.length, byPackage: Object.fromEntries(packagesByCount), files: loaded }, modulesLoadedBySargeHelp: loadedByHelp.length });
    const at = (label: string) => bySize.map((entry) => String(Math.round(entry.sarge[label]!.medianMs))).join(" / ");
    const last = bySize[bySize.length - 1]!;
    return {
      name: "cli-latency",
      resultFile,
      rows: [
        {
          bench: "5",
          measure: `sarge list, ${sizes.join(" / ")} instances, median of ${runs} runs`,
          sarge: `${at("sarge list")} ms`,
          reference: `supervisorctl status: ${at("supervisorctl status")} ms`,
          ratio: `${fmt.ratio(last.sarge["sarge list"]!.medianMs / floors["node -e 0"]!.medianMs)} node -e 0 at ${last.instances}`,
          target: "≤ 1.4× node -e 0",
        },
        {
          bench: "5",
          measure: `sarge status, ${sizes.join(" / ")} instances, median of ${runs} runs`,
          sarge: `${at("sarge status")} ms`,
          reference: `supervisorctl status: ${at("supervisorctl status")} ms`,
          ratio: `${fmt.ratio(last.sarge["sarge status"]!.medianMs / floors["node -e 0"]!.medianMs)} node -e 0 at ${last.instances}`,
          target: "≤ 1.4× node -e 0",
        },
        {
          bench: "5",
          measure: `start-up: node -e 0 / import the CLI, no command / sarge --help (module files through Node's loader: list ${loaded.length} and its bundle, --help ${loadedByHelp.length})`,
          sarge: `${Math.round(floors["node -e 0"]!.medianMs)} / ${Math.round(floors["import sarge's CLI modules only"]!.medianMs)} / ${Math.round(floors["sarge --help"]!.medianMs)} ms`,
          reference: "-",
          ratio: "-",
          target: "-",
        },
      ],
    };
  } finally {
    for (const { home, peer } of setups.reverse()) {
      await peer?.stop();
      await home.destroy();
    }
    await removeProfiles();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

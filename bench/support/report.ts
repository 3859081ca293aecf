/** Tables on stdout, JSON in bench/results/, and the machine every figure was measured on. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable as cliTable } from "../../src/cli/table.js";
import { packageRoot } from "../../src/util/package-root.js";
import { runAllCleanups } from "./cleanup.js";

export const resultsDir = join(packageRoot, "bench", "results");

/** One line of the closing table of `npm run bench`: a figure next to its floor or peer. */
export interface SummaryRow {
  /** Which benchmark (1-6, as numbered in issue 8). */
  bench: string;
  measure: string;
  sarge: string;
  /** The floor or the peer measured in the same run, "-" when there is none. */
  reference: string;
  /** sarge / reference where that means something, else "-". */
  ratio: string;
  /** Issue 8's target, shown for reference only: benchmarks never pass or fail on time. */
  target: string;
}

export interface BenchOutcome {
  name: string;
  rows: SummaryRow[];
  resultFile: string;
}

/** The CLI's table (src/cli/table.ts) with a rule of dashes under the headers. */
export function formatTable(headers: string[], rows: string[][]): string {
  const rule = headers.map((header, column) => "-".repeat(Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length))));
  return cliTable(headers, [rule, ...rows]);
}

export function summaryTable(rows: SummaryRow[]): string {
  return formatTable(
    ["#", "measure", "sarge", "floor / peer (same run)", "ratio", "target (issue 21, else its own issue)"],
    rows.map((row) => [row.bench, row.measure, row.sarge, row.reference, row.ratio, row.target]),
  );
}

function firstLine(command: string, args: string[]): string {
  try {
    const output = execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return output.split("\n")[0]!.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").split("\n")[0]!.trim();
    return stderr || "not found";
  }
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  python: string;
  haproxy: string;
  supervisord: string;
  tar: string;
  /** 1, 5 and 15 minute load averages when the benchmark started: other work on the machine shows here. */
  loadAverage: number[];
}

/** The 1, 5 and 15 minute load averages now, as a benchmark prints them beside its figures. */
export function loadAtStart(): string {
  return machine().loadAverage.map((value) => value.toFixed(1)).join(" ");
}

export function machine(): Machine {
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? "unknown",
    node: process.version,
    python: firstLine("python3", ["-V"]),
    haproxy: firstLine("haproxy", ["-v"]).replace(/ - https?:.*$/, ""),
    supervisord: firstLine("supervisord", ["-v"]),
    tar: firstLine("tar", ["--version"]),
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

/** Writes bench/results/<name>.json (gitignored) and returns its path. */
export function writeResult(name: string, data: Record<string, unknown>): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, date: new Date().toISOString(), ...data }, null, 2) + "\n");
  return file;
}

/** True when the module at `url` is the script node was asked to run. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

/** Standalone entry point of one benchmark: run, print its summary rows, stop everything, exit non-zero only on a crash. */
export function runStandalone(main: () => Promise<BenchOutcome>): void {
  main()
    .then((outcome) => {
      process.stdout.write(`\n${summaryTable(outcome.rows)}results: ${outcome.resultFile}\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(async () => {
      await runAllCleanups();
      // a stray socket or timer must not keep a finished benchmark alive
      setTimeout(() => process.exit(), 200).unref();
    });
}

export const fmt = {
  s: (ms: number, digits = 2) => `${(ms / 1000).toFixed(digits)} s`,
  ms: (ms: number, digits = 0) => `${ms.toFixed(digits)} ms`,
  ratio: (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "-"),
  int: (value: number) => Math.round(value).toLocaleString("en-US"),
  mb: (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`,
};

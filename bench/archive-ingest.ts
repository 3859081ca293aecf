/**
 * Archive ingest benchmark: unpackArchive reading
 * a tar from a file stream, against GNU `tar -xf` of the same archive.
 *
 *   npx tsc -p tsconfig.json && node build/bench/archive-ingest.js
 *
 * Generates a ~100 MB archive of 10,000 files (random data, so the page cache
 * and the disk see real bytes; mostly 1-16 KiB files plus a few larger than the
 * in-memory threshold), unpacks it RUNS (5) times each way into fresh folders on
 * the same file system, alternating the two, with a `sync` (untimed) before
 * every run so that neither pays for the other's write-back, and prints medians. No pass/fail:
 * the numbers go to stdout and bench/results/archive-ingest.json. `npm run bench` runs it
 * twice: on the temp folder's disk, and on tmpfs (/dev/shm) where the disk's write-back
 * cannot swing single runs by seconds.
 *
 * Environment: BENCH_FILES, BENCH_MB, BENCH_RUNS, BENCH_DIR override the defaults.
 * BENCH_DIR picks the file system: the default (os.tmpdir()) is usually a disk;
 * BENCH_DIR=/dev/shm (tmpfs) takes the disk out and compares CPU cost only.
 * Medians are the headline; the fastest runs and CPU seconds are printed too,
 * because on a busy machine wall-clock medians mostly measure the neighbours.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import tar from "tar-stream";
import { unpackArchive } from "../src/archive/unpack.js";

const run = promisify(execFile);

interface Timing {
  seconds: number[];
  median: number;
  min: number;
  mbPerSecond: number;
  filesPerSecond: number;
  /** CPU seconds (user + system, all threads) per run, when measurable. */
  cpuSeconds: number[] | null;
}

export interface IngestResult {
  date: string;
  node: string;
  tar: string;
  cpus: number;
  cpuModel: string;
  archive: { files: number; folders: number; contentBytes: number; archiveBytes: number };
  /** Where the unpacked trees were written, and that file system's type. */
  target: { dir: string; fsType: string };
  loadAverage: number[];
  runs: number;
  unpackArchive: Timing;
  tarX: Timing;
  /** unpackArchive throughput divided by tar -x throughput, from the medians (>= 0.8 is the target). */
  ratio: number;
  /** The same from the fastest runs (less sensitive to other load on the machine). */
  ratioOfMin: number;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      if (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name === "sarge") return dir;
    } catch {
      // not here
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/** Write the benchmark archive with tar-stream's packer; returns what went in. */
async function generate(path: string, files: number, targetBytes: number): Promise<IngestResult["archive"]> {
  const pack = tar.pack();
  const out = pipeline(pack, createWriteStream(path, { highWaterMark: 1 << 20 }));
  const mtime = new Date("2024-01-01T00:00:00Z");
  const large = Math.max(1, Math.round(files / 1000)); // ~0.1 % of files above the 1 MiB streaming threshold
  const largeSize = Math.round((targetBytes * 0.15) / large);
  const smallBudget = targetBytes - large * largeSize;
  const smallAverage = smallBudget / (files - large);
  const folders = Math.max(1, Math.round(files / 100));
  let contentBytes = 0;
  const pool = randomBytes(4 * 1024 * 1024);
  const entry = (header: Partial<tar.Header> & { name: string }, data?: Buffer): Promise<void> =>
    new Promise((resolveEntry, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolveEntry());
      if (data === undefined) pack.entry(header, done);
      else pack.entry(header, data, done);
    });
  for (let d = 0; d < folders; d++) await entry({ name: `app/pkg${d}/`, type: "directory", mode: 0o775, mtime });
  for (let i = 0; i < files; i++) {
    const isLarge = i % Math.floor(files / large) === 0 && i / Math.floor(files / large) < large;
    const size = isLarge ? largeSize : Math.max(1, Math.round(smallAverage * (0.1 + 1.8 * ((i * 7919) % 1000) / 1000)));
    const offset = (i * 104729) % (pool.length - Math.min(size, pool.length));
    const data = size <= pool.length ? pool.subarray(offset, offset + size) : randomBytes(size);
    const mode = i % 10 === 0 ? 0o775 : 0o664;
    await entry({ name: `app/pkg${i % folders}/file${i}.dat`, type: "file", mode, mtime, size }, data);
    contentBytes += size;
  }
  pack.finalize();
  await out;
  return { files, folders, contentBytes, archiveBytes: statSync(path).size };
}

interface Run {
  seconds: number;
  cpu: number | null;
}

function timing(runs: Run[], contentBytes: number, files: number): Timing {
  const seconds = runs.map((r) => r.seconds);
  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const cpu = runs.every((r) => r.cpu !== null) ? runs.map((r) => Number(r.cpu!.toFixed(3))) : null;
  return {
    seconds: seconds.map((s) => Number(s.toFixed(4))),
    median: Number(median.toFixed(4)),
    min: Number(sorted[0]!.toFixed(4)),
    mbPerSecond: Number((contentBytes / 1e6 / median).toFixed(1)),
    filesPerSecond: Math.round(files / median),
    cpuSeconds: cpu,
  };
}

async function timeUnpack(archive: string, dest: string): Promise<Run> {
  mkdirSync(dest);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await unpackArchive(createReadStream(archive, { highWaterMark: 1 << 20 }), dest, {
    maxBytes: 10 * 1024 ** 3,
    maxEntries: 10_000_000,
    maxNameLength: 4096,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpu: (used.user + used.system) / 1e6 };
}

/** GNU tar, timed from here; its CPU time through /usr/bin/time when that exists (it adds ~1 ms). */
async function timeTar(archive: string, dest: string): Promise<Run> {
  mkdirSync(dest);
  const timeBin = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
  const started = process.hrtime.bigint();
  const result = timeBin
    ? await run(timeBin, ["-f", "%U %S", "tar", "-xf", archive, "-C", dest])
    : await run("tar", ["-xf", archive, "-C", dest]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const times = timeBin ? result.stderr.trim().split("\n").at(-1)!.split(" ").map(Number) : [];
  return { seconds, cpu: times.length === 2 && times.every(Number.isFinite) ? times[0]! + times[1]! : null };
}

async function fsType(dir: string): Promise<string> {
  try {
    return (await run("stat", ["-f", "-c", "%T", dir])).stdout.trim();
  } catch {
    return "unknown";
  }
}

/** `dir`: where to unpack (default $BENCH_DIR, else the temp folder); results go to bench/results/archive-ingest[-<label>].json. */
export async function main(options: { dir?: string; label?: string } = {}): Promise<IngestResult> {
  const files = Number(process.env.BENCH_FILES ?? 10_000);
  const targetBytes = Number(process.env.BENCH_MB ?? 100) * 1e6;
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const work = mkdtempSync(join(options.dir ?? process.env.BENCH_DIR ?? tmpdir(), "sarge-archive-bench-"));
  try {
    const archivePath = join(work, "bench.tar");
    process.stdout.write(`generating ${files} files, ~${targetBytes / 1e6} MB in ${archivePath}\n`);
    const archive = await generate(archivePath, files, targetBytes);
    const entries = archive.files + archive.folders;
    process.stdout.write(
      `archive: ${(archive.archiveBytes / 1e6).toFixed(1)} MB, ${archive.files} files in ${archive.folders} folders, ${(archive.contentBytes / 1e6).toFixed(1)} MB of content\n`,
    );

    // One untimed round each so both start with the archive in the page cache.
    await timeUnpack(archivePath, join(work, "warm-ours"));
    await timeTar(archivePath, join(work, "warm-tar"));
    rmSync(join(work, "warm-ours"), { recursive: true, force: true });
    rmSync(join(work, "warm-tar"), { recursive: true, force: true });

    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which goes first so neither always runs on a freshly written-back disk.
      const order = i % 2 === 0 ? (["ours", "tar"] as const) : (["tar", "ours"] as const);
      for (const which of order) {
        const dest = join(work, `${which}-${i}`);
        // Untimed: write back what the previous run left dirty, so each side pays for its own writes only.
        await run("sync", []);
        const measured = which === "ours" ? await timeUnpack(archivePath, dest) : await timeTar(archivePath, dest);
        (which === "ours" ? ours : theirs).push(measured);
        const cpu = measured.cpu === null ? "" : ` (${measured.cpu.toFixed(3)} s CPU)`;
        process.stdout.write(`  run ${i + 1} ${which === "ours" ? "unpackArchive" : "tar -xf      "}: ${measured.seconds.toFixed(3)} s${cpu}\n`);
        rmSync(dest, { recursive: true, force: true });
      }
    }

    const unpack = timing(ours, archive.contentBytes, entries);
    const tarX = timing(theirs, archive.contentBytes, entries);
    const tarVersion = (await run("tar", ["--version"])).stdout.split("\n")[0] ?? "tar";
    const result: IngestResult = {
      date: new Date().toISOString(),
      node: process.version,
      tar: tarVersion,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? "unknown",
      archive,
      target: { dir: work, fsType: await fsType(work) },
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
      runs,
      unpackArchive: unpack,
      tarX,
      ratio: Number((tarX.median / unpack.median).toFixed(3)),
      ratioOfMin: Number((tarX.min / unpack.min).toFixed(3)),
    };
    process.stdout.write(
      [
        "",
        `on ${result.target.fsType} (${work}), load average ${result.loadAverage.join(" ")}, ${result.cpus} CPUs`,
        `                 median s    min s     MB/s   entries/s`,
        `unpackArchive   ${unpack.median.toFixed(3).padStart(8)} ${unpack.min.toFixed(3).padStart(8)} ${unpack.mbPerSecond.toFixed(1).padStart(8)} ${String(unpack.filesPerSecond).padStart(11)}`,
        `tar -xf         ${tarX.median.toFixed(3).padStart(8)} ${tarX.min.toFixed(3).padStart(8)} ${tarX.mbPerSecond.toFixed(1).padStart(8)} ${String(tarX.filesPerSecond).padStart(11)}`,
        `ratio (unpackArchive / tar -x throughput): ${result.ratio.toFixed(2)} from medians, ${result.ratioOfMin.toFixed(2)} from fastest runs`,
        "",
      ].join("\n"),
    );
    const resultsDir = join(packageRoot(), "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const out = join(resultsDir, `archive-ingest${options.label ? `-${options.label}` : ""}.json`);
    writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(`wrote ${out}\n`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`archive-ingest benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}

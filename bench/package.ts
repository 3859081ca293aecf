/**
 * Benchmark 9 (issue 19): the npm package. Its size; an offline install of it
 * (`npm install -g --offline` into an empty prefix, empty cache, registry
 * unreachable) next to `tar -xzf` of the same tarball (the floor: unpacking
 * alone); the copy `sarge init` pins into a home; and `sarge list` from the
 * installed package (the home's bin/sarge, which runs that copy) next to the
 * checkout's bin/sarge, on the same home, interleaved.
 *
 *   npm run build && node build/bench/package.js      (BENCH_PACKAGE_RUNS=N, default 10)
 *
 * Writes bench/results/package.json. No pass/fail.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot, sargeBin } from "../src/util/package-root.js";
import { helloArchive } from "./support/apps.js";
import { onCleanup } from "./support/cleanup.js";
import { check, run } from "./support/cli.js";
import { createBenchHome } from "./support/home.js";
import { fmt, isMain, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

/** npm with an empty cache and a registry nothing listens on. */
function offlineNpmEnv(dir: string): NodeJS.ProcessEnv {
  mkdirSync(join(dir, "cache"), { recursive: true });
  writeFileSync(join(dir, "npmrc"), "");
  return { ...process.env, npm_config_cache: join(dir, "cache"), npm_config_registry: "http://127.0.0.1:1/", npm_config_userconfig: join(dir, "npmrc") };
}

/** Bytes under `dirs`, each inode once (a file hard-linked in two of them counts once, as on disk). */
function diskBytes(...dirs: string[]): number {
  const total = execFileSync("du", ["-sbc", ...dirs], { encoding: "utf8" }).trim().split("\n").at(-1)!;
  return Number(total.split("\t")[0]);
}

function fileCount(dir: string): number {
  return execFileSync("find", [dir, "-type", "f"], { encoding: "utf8" }).trim().split("\n").length;
}

export async function main(): Promise<BenchOutcome> {
  const runs = Number(process.env.BENCH_PACKAGE_RUNS ?? 10);
  console.log(`\n== 9. package: size, offline install vs tar -xzf, sarge list installed vs checkout (median of ${runs}) ==`);
  const work = mkdtempSync(join(tmpdir(), "sarge-bench-pkg-"));
  const removeWork = onCleanup(`package work ${work}`, () => rmSync(work, { recursive: true, force: true }));
  try {
    const packed = check(await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: packageRoot, env: offlineNpmEnv(join(work, "pack")), timeoutMs: 600_000 }), "npm pack");
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number }>;
    const tarball = join(work, info!.filename);

    const prefix = join(work, "prefix");
    const installed = check(
      await run("npm", ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball], { cwd: work, env: offlineNpmEnv(join(work, "install")), timeoutMs: 600_000 }),
      "npm install --offline",
    );
    mkdirSync(join(work, "untar"));
    const untar = check(await run("tar", ["-xzf", tarball, "-C", join(work, "untar")]), "tar -xzf");

    const home = await createBenchHome({ sarge: join(prefix, "bin", "sarge") });
    const copy = join(home.paths.opt, readlinkSync(join(home.paths.opt, "current")));
    const installRoot = join(prefix, "lib", "node_modules", "sarge");
    // what the copy adds on disk beside the install it was made from (its dependencies are hard links when on one file system)
    const pinned = { files: fileCount(copy), bytes: diskBytes(copy), addedBytes: diskBytes(installRoot, copy) - diskBytes(installRoot) };
    const init = check(await run(join(prefix, "bin", "sarge"), ["init", join(work, "timed-home")]), "sarge init (timed)");
    await home.startSupervisor();
    check(await home.sarge(["deploy", "-", "web"], { input: helloArchive(), timeoutMs: 300_000 }), "deploy");

    const commands = [
      { label: "installed", command: join(home.paths.bin, "sarge"), args: ["list"] },
      { label: "checkout", command: process.execPath, args: [sargeBin, "--home", home.root, "list"] },
    ];
    const samples: Record<string, number[]> = { installed: [], checkout: [] };
    for (let i = 0; i < runs; i++) {
      for (const { label, command, args } of i % 2 === 0 ? commands : [...commands].reverse()) {
        samples[label]!.push(check(await run(command, args, { cwd: work }), `sarge list (${label})`).wallMs);
      }
    }
    const [listInstalled, listCheckout] = [round(median(samples.installed!), 1), round(median(samples.checkout!), 1)];

    const result = {
      tarball: { bytes: info!.size, unpackedBytes: info!.unpackedSize, entries: info!.entryCount },
      packMs: round(packed.wallMs, 0),
      offlineInstallMs: round(installed.wallMs, 0),
      tarExtractMs: round(untar.wallMs, 0),
      initMs: round(init.wallMs, 0),
      pinnedCopy: pinned,
      list: { installedMedianMs: listInstalled, checkoutMedianMs: listCheckout, samplesMs: samples },
    };
    console.log(JSON.stringify(result, null, 2));
    const resultFile = writeResult("package", result);
    await home.destroy();
    return {
      name: "package",
      resultFile,
      rows: [
        { bench: "9", measure: `package: ${fmt.int(info!.entryCount)} files`, sarge: `${fmt.mb(info!.size)} packed, ${fmt.mb(info!.unpackedSize)} unpacked`, reference: "-", ratio: "-", target: "reported" },
        { bench: "9", measure: "offline install (npm install -g --offline, empty cache)", sarge: fmt.s(installed.wallMs), reference: `tar -xzf ${fmt.s(untar.wallMs)}`, ratio: fmt.ratio(installed.wallMs / untar.wallMs), target: "reported" },
        { bench: "9", measure: `sarge init from the package: copy of ${fmt.int(pinned.files)} files, ${fmt.mb(pinned.bytes)} (${fmt.mb(pinned.addedBytes)} new on disk)`, sarge: fmt.s(init.wallMs), reference: "-", ratio: "-", target: "reported" },
        { bench: "9", measure: `sarge list, 1 instance, median of ${runs}`, sarge: `installed ${fmt.ms(listInstalled)}`, reference: `checkout ${fmt.ms(listCheckout)}`, ratio: fmt.ratio(listInstalled / listCheckout), target: "installed ≤ checkout" },
      ],
    };
  } finally {
    await removeWork();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

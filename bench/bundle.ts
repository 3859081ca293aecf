/**
 * Benchmark 12 (issue 20): bundles, docs/bundles.md.
 *
 *   npm run build && node build/bench/bundle.js     (BENCH_BUNDLE_ROUNDS=N, default 5; deploys: 3)
 *
 * Making one, examples/hello with the 15-wheel dist (bench/support/dist.ts), in rotating order:
 *   sarge bundle (plain)    requirements.txt without hashes: followed through the wheels' Requires-Dist
 *   sarge bundle (hashed)   all 15 pinned with --hash: the lock is read and the wheels' hashes checked
 *   floor                   `git archive HEAD | gzip` plus `cp` of the 15 wheels, by hand in sh
 *   sarge --help            the start of any sarge command (Node and the CLI), for scale
 * Deploying one cold (a new environment each round: the requirements' bytes change):
 *   bundle    `sarge deploy -` of the bundle on a home whose dist/ is empty
 *   dist      `sarge deploy -` of `git archive HEAD` of the same commit on a home with the wheels in dist/
 * Whole processes, spawn to exit, medians. Writes bench/results/bundle.json. No pass/fail.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sargeBin } from "../test/support/cli.js";
import { helloDir } from "../test/support/apps.js";
import { commitAll, makeCheckout } from "../test/support/checkout.js";
import { onCleanup } from "./support/cleanup.js";
import { check, run } from "./support/cli.js";
import { benchRequirements, writeBenchDist } from "./support/dist.js";
import { createBenchHome } from "./support/home.js";
import { fmt, isMain, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

/** requirements.txt pinning every wheel of the dist with its sha256 (what pip-compile --generate-hashes writes). */
function hashedRequirements(wheels: string, files: string[]): string {
  return files
    .map((file) => {
      const [name, version] = file.split("-");
      const sum = createHash("sha256").update(readFileSync(join(wheels, file))).digest("hex");
      return `${name}==${version} --hash=sha256:${sum}\n`;
    })
    .join("");
}

export async function main(): Promise<BenchOutcome> {
  const rounds = Number(process.env.BENCH_BUNDLE_ROUNDS ?? 5);
  const deployRounds = Math.max(1, Math.min(rounds, 3));
  console.log(`\n== 12. bundles: examples/hello with 15 wheels, ${rounds} rounds of making, ${deployRounds} cold deploys each way ==`);
  const work = mkdtempSync(join(tmpdir(), "sarge-bench-bundle-"));
  onCleanup(`bundle bench folder ${work}`, () => rmSync(work, { recursive: true, force: true }));
  const wheels = join(work, "wheels");
  mkdirSync(wheels);
  const files = await writeBenchDist(wheels);
  const plain = join(work, "plain", "hello");
  const hashed = join(work, "hashed", "hello");
  makeCheckout(plain, { from: helloDir, files: { "requirements.txt": benchRequirements() } });
  makeCheckout(hashed, { from: helloDir, files: { "requirements.txt": hashedRequirements(wheels, files) } });

  const make = { plain: [] as number[], hashed: [] as number[], floor: [] as number[], start: [] as number[] };
  const out = join(work, "out");
  const bundleOnce = async (checkout: string, into: number[], what: string) => {
    const result = check(await run(process.execPath, [sargeBin, "bundle", "--wheels", wheels, "-o", out], { cwd: checkout }), `sarge bundle (${what})`);
    into.push(result.wallMs);
  };
  const byHand = async () => {
    const script = `git archive HEAD | gzip > "$1/by-hand.tar.gz" && mkdir -p "$1/wheels" && cp "$2"/*.whl "$1/wheels/"`;
    make.floor.push(check(await run("sh", ["-c", script, "sh", out, wheels], { cwd: plain }), "git archive | gzip + cp").wallMs);
  };
  for (let i = 0; i < rounds; i++) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    // what any sarge command costs before doing anything: the share of the ratio no bundling code can win back
    const start = async () => make.start.push(check(await run(process.execPath, [sargeBin, "--help"]), "sarge --help").wallMs);
    const steps = [() => bundleOnce(plain, make.plain, "plain"), () => bundleOnce(hashed, make.hashed, "hashed"), byHand, start];
    for (let s = 0; s < steps.length; s++) await steps[(s + i) % steps.length]!();
    console.log(`  round ${i + 1}: plain ${fmt.ms(make.plain.at(-1)!)}, hashed ${fmt.ms(make.hashed.at(-1)!)}, by hand ${fmt.ms(make.floor.at(-1)!)}, sarge --help ${fmt.ms(make.start.at(-1)!)}`);
  }

  const bundleHome = await createBenchHome({ withGreetingWheel: false });
  const distHome = await createBenchHome({ withGreetingWheel: false });
  await writeBenchDist(distHome.paths.dist);
  await Promise.all([bundleHome.startSupervisor(), distHome.startSupervisor()]);
  const deploys = { bundle: [] as number[], dist: [] as number[] };
  try {
    for (let i = 0; i <= deployRounds; i++) {
      // round 0 starts HAProxy on both homes and is not counted
      writeFileSync(join(plain, "requirements.txt"), benchRequirements(`round ${i}`));
      commitAll(plain, `round ${i}`);
      const bundle = JSON.parse(check(await run(process.execPath, [sargeBin, "bundle", "--wheels", wheels, "-o", out, "--json"], { cwd: plain }), "sarge bundle").stdout);
      const archive = execFileSync("git", ["archive", "HEAD"], { cwd: plain, maxBuffer: 1 << 30 });
      const viaBundle = async () => check(await bundleHome.sarge(["deploy", "-", "web"], { input: readFileSync(bundle.file) }), "deploy of the bundle").wallMs;
      const viaDist = async () => check(await distHome.sarge(["deploy", "-", "web"], { input: archive }), "deploy from dist").wallMs;
      const [first, second] = i % 2 === 0 ? [viaBundle, viaDist] : [viaDist, viaBundle];
      const a = await first();
      const b = await second();
      const [bundleMs, distMs] = i % 2 === 0 ? [a, b] : [b, a];
      console.log(`  deploy ${i === 0 ? "(warm-up)" : `round ${i}`}: bundle ${fmt.s(bundleMs)}, from dist ${fmt.s(distMs)}`);
      if (i === 0) continue;
      deploys.bundle.push(bundleMs);
      deploys.dist.push(distMs);
    }
  } finally {
    await bundleHome.destroy();
    await distHome.destroy();
  }

  const medians = {
    plain: round(median(make.plain), 1),
    hashed: round(median(make.hashed), 1),
    floor: round(median(make.floor), 1),
    start: round(median(make.start), 1),
    bundleDeploy: round(median(deploys.bundle), 1),
    distDeploy: round(median(deploys.dist), 1),
  };
  const file = writeResult("bundle", { rounds, deployRounds, make, deploys, medians });
  return {
    name: "bundle",
    resultFile: file,
    rows: [
      {
        bench: "12",
        measure: `sarge bundle, hello + 15 wheels, requirements followed through the wheels, median of ${rounds}`,
        sarge: fmt.ms(medians.plain),
        reference: `git archive | gzip + cp ${fmt.ms(medians.floor)}`,
        ratio: fmt.ratio(medians.plain / medians.floor),
        target: "≤ 1.2×",
      },
      {
        bench: "12",
        measure: `sarge bundle, hello + 15 wheels, hashed requirements, median of ${rounds}; sarge --help alone ${fmt.ms(medians.start)}`,
        sarge: fmt.ms(medians.hashed),
        reference: `git archive | gzip + cp ${fmt.ms(medians.floor)}`,
        ratio: fmt.ratio(medians.hashed / medians.floor),
        target: "≤ 1.2×",
      },
      {
        bench: "12",
        measure: `cold deploy of a bundle (empty dist) vs from dist, median of ${deployRounds}`,
        sarge: fmt.s(medians.bundleDeploy),
        reference: `from dist ${fmt.s(medians.distDeploy)}`,
        ratio: fmt.ratio(medians.bundleDeploy / medians.distDeploy),
        target: "≤ 1.1×",
      },
    ],
  };
}

if (isMain(import.meta.url)) runStandalone(main);

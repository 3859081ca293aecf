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
 *     unset: the default, until each host's stable address passes 3 probes in a row)
 *
 * The hosts are test/support/fleet.ts's: three homes on this machine, each
 * behind its own sshd on loopback. Writes bench/results/fleet.json. No pass/fail.
 */
import { startFleet } from "../test/support/fleet.js";
import { startLoad } from "../test/support/load.js";
import { onCleanup } from "./support/cleanup.js";
import { fmt, isMain, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median } from "./support/stats.js";

export async function main(): Promise<BenchOutcome> {
  const rounds = Number(process.env.BENCH_FLEET_ROUNDS ?? 4);
  const verify = process.env.BENCH_FLEET_VERIFY;
  const verifyArgs = verify === undefined ? [] : ["--verify", verify];
  const verifyLabel = verify === undefined ? "default --verify" : `--verify ${verify}`;
  const fleet = await startFleet();
  const stopFleet = onCleanup("fleet", async () => void (await fleet.stop()));
  const load = startLoad(fleet.frontPort, { workers: 4, maxMs: 3_600_000 });
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
    for (let round = 1; round <= rounds; round++) {
      for (const [index, [label, hosts, limit, times]] of kinds.entries()) {
        fleet.commit(`bench-${round}.${index}`);
        const started = performance.now();
        const result = await fleet.push([...verifyArgs, "--limit", limit, "--json"], { hosts });
        const ms = performance.now() - started;
        if (result.code !== 0) throw new Error(`push to ${label} failed (exit ${result.code}):\n${result.stderr}`);
        times.push(ms);
        console.log(`round ${round}: push to ${label} ${fmt.s(ms)}`);
      }
    }
    const samples = await load.stop();
    const failed = samples.filter((sample) => sample.status !== 200);
    const ratio = median(three) / median(one);
    const ratioTogether = median(together) / median(one);
    const resultFile = writeResult("fleet", {
      rounds,
      verifySeconds: verify === undefined ? null : Number(verify),
      oneHostMs: one,
      threeHostsMs: three,
      threeHostsTogetherMs: together,
      ratio,
      ratioTogether,
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
          target: "≤ 1.5×",
        },
        {
          bench: "10",
          measure: `push to 3 hosts vs to 1, switching together (--limit 100%, ${verifyLabel}), median of ${rounds}`,
          sarge: fmt.s(median(together)),
          reference: `1 host ${fmt.s(median(one))}`,
          ratio: fmt.ratio(ratioTogether),
          target: "≤ 1.5×",
        },
        {
          bench: "10",
          measure: `failed requests through the front across ${rounds * kinds.length} pushes`,
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

if (isMain(import.meta.url)) runStandalone(main);

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { readProcStat } from "../../src/util/proc-stat.js";
import { helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf } from "../support/crash.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get, instanceOf, startLoad, type LoadRun } from "../support/load.js";
import { waitFor } from "../support/wait.js";

/** Rounds per backend: three in `npm test` (about 40 s per backend on 2 cores); more with SARGE_CHAOS_ROUNDS. */
const ROUNDS = Number(process.env["SARGE_CHAOS_ROUNDS"] ?? 3);
const SEED = Number(process.env["SARGE_CHAOS_SEED"] ?? Date.now() % 1_000_000);

/** mulberry32: the same seed gives the same kill moments, to replay a failed run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Victim = "deploy" | "supervisor" | "both";
const VICTIMS: readonly Victim[] = ["deploy", "supervisor", "both"];

function shuffled<T>(items: readonly T[], next: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const versionOf = (body: string) => /\((\w+), [\w-]+\)\s*$/.exec(body)?.[1] ?? null;
/**
 * Gone from /proc: reaped once all its threads exited. A killed daemon's main thread is a zombie
 * while its other threads still hold its files, its listening socket too: a new supervisor
 * checked then would seem to answer.
 */
const gone = (pid: number) => readProcStat(pid) === null;

/**
 * Chaos under load on the stable port, for each backend: a deploy runs, and at
 * a random moment of it the deploy, the supervisor or both are SIGKILLed (the
 * supervisor is started again at once, as systemd would). After each round the
 * home is consistent: `sarge list` cleans up, `sarge status` is ok, the stable
 * port answers from the instance state says is active (the new version when
 * the deploy succeeded), nothing is left over. Not one request may fail.
 */
describe.each(["builtin", "supervisord"] as const)("chaos: random SIGKILLs of deploys and of the %s supervisor", (backend) => {
  const next = random(SEED + (backend === "builtin" ? 0 : 1));
  let home: TestHome;
  let load: LoadRun;
  let serving = "v0";
  let deployMs = 0;
  beforeAll(async () => {
    home = await createTestHome({ supervisor: backend });
    await home.startSupervisor();
    const began = Date.now();
    const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion(serving) });
    expect(first.code, first.stderr).toBe(0);
    deployMs = Date.now() - began;
    load = startLoad(home.webPort, { workers: 2 });
  });
  afterAll(async () => {
    await load?.stop();
    expect(await home.destroy()).toEqual([]);
  });

  const supervisorPid = () => Number(readFileSync(join(home.paths.run, backend === "builtin" ? "supervisor.pid" : "supervisord.pid"), "utf8"));

  it(`${ROUNDS} rounds (seed ${SEED}): 0 failed requests, a consistent home after each`, async () => {
    const log: string[] = [];
    let victims = VICTIMS;
    for (let round = 1; round <= ROUNDS; round++) {
      const version = `v${round}`;
      // every victim once in each run of three rounds, in a random order
      if ((round - 1) % VICTIMS.length === 0) victims = shuffled(VICTIMS, next);
      const victim = victims[(round - 1) % VICTIMS.length]!;
      const killAfterMs = Math.round(next() * deployMs * 1.2);
      const deploy = home.spawn(["deploy", "-", "web"], { input: helloVersion(version) });
      // the random moment is the point of this test: no event to wait for
      await Promise.race([sleep(killAfterMs), deploy.done]);
      if (victim !== "supervisor") await deploy.kill();
      if (victim !== "deploy") {
        const pid = supervisorPid();
        process.kill(pid, "SIGKILL");
        await waitFor(() => gone(pid), "the supervisor to be gone", 5_000);
        await home.startSupervisor();
      }
      const { code } = await deploy.done;
      const list = await home.sarge(["list"]);
      const what = `round ${round}, ${victim} SIGKILLed after ${killAfterMs} ms, deploy exit ${code}`;
      expect(list.code, `${what}\n${list.stderr}supervisor output:\n${readFileSync(join(home.paths.log, "supervisord.out"), "utf8")}`).toBe(0);
      await waitFor(async () => (await home.sarge(["status"])).code === 0, `sarge status to be ok after round ${round}`, 20_000);
      const active = Object.values(readState(home.paths).instances).find((instance) => instance.proc === "web" && instance.state === "active")!;
      const body = await get(home.webPort);
      expect(instanceOf(body), body).toBe(active.id);
      if (code === 0) expect(versionOf(body)).toBe(version);
      else expect([serving, version]).toContain(versionOf(body));
      serving = versionOf(body)!;
      await expectNoLeftovers(home);
      log.push(`${victim} SIGKILLed after ${killAfterMs} ms: deploy ${code === 0 ? "succeeded" : `exited ${code ?? "by SIGKILL"}`}, ${serving} serves`);
    }
    const samples = await load.stop();
    console.log(`chaos, ${backend} (seed ${SEED}): ${failuresOf(samples).length} failed of ${samples.length} requests over ${ROUNDS} rounds\n  ${log.join("\n  ")}`);
    expect(failuresOf(samples)).toEqual([]);
  });
});

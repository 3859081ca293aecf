import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { loadConfig } from "../../src/home/config.js";
import { readState, type State } from "../../src/instance/state.js";
import { openSupervisor } from "../../src/supervise/open.js";
import type { SargeProcess } from "./cli.js";
import type { TestHome } from "./home.js";
import { startLoad, type LoadSample } from "./load.js";
import { accepts } from "./ports.js";
import { processesUsing } from "./processes.js";

/** The line SARGE_PAUSE_AT prints once sarge waits at that step. */
export function pausedLine(step: string): string {
  return `sarge: paused before step ${step.split("#")[0]} (SARGE_PAUSE_AT)\n`;
}

/** Start `sarge deploy - <procs>` that stops before `step`; resolves once it waits there. */
export async function deployPausedAt(home: TestHome, step: string, input: Buffer, procs = ["web"]): Promise<SargeProcess> {
  const deploy = home.spawn(["deploy", "-", ...procs], { input, env: { SARGE_PAUSE_AT: step } });
  await deploy.waitForStderr(pausedLine(step));
  return deploy;
}

export function deployingIds(state: State): string[] {
  return Object.values(state.instances)
    .filter((instance) => instance.state === "deploying")
    .map((instance) => instance.id);
}

/** Program names the home's supervisor knows (instances and haproxy). */
export async function supervisedPrograms(home: TestHome): Promise<string[]> {
  const supervisor = await openSupervisor(home.paths, loadConfig(home.paths));
  try {
    return (await supervisor.status()).map((program) => program.name).sort();
  } finally {
    await supervisor.close();
  }
}

/**
 * Nothing left over beyond what state records: deploy/ holds exactly the
 * instances in state, none is "deploying", the supervisor runs nothing else,
 * no process works in a folder that is not an instance's, no lock is held,
 * and the given ports (of removed instances) are free.
 */
export async function expectNoLeftovers(home: TestHome, freedPorts: number[] = []): Promise<void> {
  const state = readState(home.paths);
  const ids = Object.keys(state.instances).sort();
  expect(deployingIds(state)).toEqual([]);
  expect(existsSync(home.paths.deploy) ? readdirSync(home.paths.deploy).sort() : []).toEqual(ids);
  expect(await supervisedPrograms(home)).toEqual(["haproxy", ...ids].sort());
  const stray = processesUsing(home.paths.deploy).filter((p) => !ids.some((id) => p.cwd.startsWith(join(home.paths.deploy, id))));
  expect(stray).toEqual([]);
  expect(existsSync(home.paths.deployLock)).toBe(false);
  expect(readdirSync(home.paths.run).filter((name) => name.startsWith("deploy.lock"))).toEqual([]);
  for (const port of freedPorts) expect(await accepts(port), `port ${port} is still in use`).toBe(false);
}

/** The failed samples of a load run, in a short form for an assertion message. */
export function failuresOf(samples: LoadSample[]): Array<{ at: number; end: number; error: string }> {
  return samples.filter((sample) => sample.error !== null).map((sample) => ({ at: sample.start, end: sample.end, error: sample.error! }));
}

/** stderr without the timestamps sarge puts in front of each line when it is not a terminal. */
export function plainLines(stderr: string): string {
  return stderr.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /gm, "");
}

export interface CrashCaseResult {
  /** The instance that served before (and, unless the switch completed, after). */
  active: string;
  /** Instances the killed deploy had recorded as "deploying". */
  halfMade: string[];
  /** Ports the half-made instances had been given (to check they are free again). */
  ports: number[];
  /** What `sarge list` said on stderr after the kill, without timestamps. */
  recovery: string;
  /** Every answered request's instance id, and every failure. */
  servedBy: Set<string>;
  failures: Array<{ at: number; end: number; error: string }>;
  samples: number;
}

/** Requests answered in each phase of a crash case (the tests expect more than 20 in all). */
const PHASE_REQUESTS = 10;

/**
 * One crash case under load: `sarge deploy` of `input` is stopped before
 * `step` (SARGE_PAUSE_AT) and SIGKILLed there; then `sarge list` cleans up.
 * Load runs on the stable port from before the deploy starts until after the
 * cleanup.
 */
export async function killDeployAt(home: TestHome, step: string, input: Buffer): Promise<CrashCaseResult> {
  const before = readState(home.paths);
  const active = Object.values(before.instances).find((instance) => instance.proc === "web" && instance.state === "active")!.id;
  // the load runs through each phase: before, while sarge waits, after the kill, after the cleanup
  const load = startLoad(home.webPort, { workers: 2 });
  await load.answered(PHASE_REQUESTS);
  const deploy = await deployPausedAt(home, step, input);
  const halfMade = deployingIds(readState(home.paths));
  await load.answered(PHASE_REQUESTS);
  await deploy.kill();
  const killed = readState(home.paths);
  const ports = halfMade.map((id) => killed.instances[id]?.port ?? 0).filter((port) => port > 0);
  await load.answered(PHASE_REQUESTS);
  const list = await home.sarge(["list"]);
  expect(list.code, list.stderr).toBe(0);
  await load.answered(PHASE_REQUESTS);
  const samples = await load.stop();
  console.log(`SIGKILL before ${step}: ${failuresOf(samples).length} failed of ${samples.length} requests`);
  return {
    active,
    halfMade,
    ports,
    recovery: plainLines(list.stderr),
    servedBy: new Set(samples.flatMap((sample) => (sample.body ? [sample.instance ?? "?"] : []))),
    failures: failuresOf(samples),
    samples: samples.length,
  };
}

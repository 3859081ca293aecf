import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { expect, onTestFinished } from "vitest";
import { readState, type State } from "../../src/instance/state.js";
import { packageRoot } from "../../src/util/package-root.js";
import { sargeBin } from "./cli.js";
import type { TestHome } from "./home.js";
import { instanceOf, startLoad, type LoadSample } from "./load.js";
import { processesUsing } from "./processes.js";

/** A sarge command started in the background, for the crash tests. */
export interface RunningSarge {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Wait until stderr matches. */
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** SIGKILL and wait until it is gone. */
  kill(): Promise<void>;
}

export function spawnSarge(home: TestHome, args: string[], options: { input?: Buffer; env?: Record<string, string>; keepStdinOpen?: boolean } = {}): RunningSarge {
  const child = spawn(process.execPath, [sargeBin, "--home", home.root, ...args], {
    cwd: packageRoot,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on("error", () => undefined);
  if (options.input) child.stdin!.write(options.input);
  if (!options.keepStdinOpen) child.stdin!.end();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  // however the test ends, nothing it started stays behind
  onTestFinished(async () => {
    if (!gone) child.kill("SIGKILL");
    await exited;
  });
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const matches = () => (typeof pattern === "string" ? stderr.includes(pattern) : pattern.test(stderr));
      while (!matches()) {
        if (gone) throw new Error(`sarge ${args.join(" ")} exited before printing ${String(pattern)}:\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`sarge ${args.join(" ")} did not print ${String(pattern)} within ${timeoutMs} ms:\n${stderr}`);
        await sleep(20);
      }
      return stderr;
    },
    async kill() {
      if (!gone) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The line SARGE_PAUSE_AT prints once sarge waits at that step. */
export function pausedLine(step: string): string {
  return `sarge: paused before step ${step.split("#")[0]} (SARGE_PAUSE_AT)\n`;
}

/** Start `sarge deploy - <procs>` that stops before `step`; resolves once it waits there. */
export async function deployPausedAt(home: TestHome, step: string, input: Buffer, procs = ["web"]): Promise<RunningSarge> {
  const deploy = spawnSarge(home, ["deploy", "-", ...procs], { input, env: { SARGE_PAUSE_AT: step } });
  await deploy.waitFor(pausedLine(step));
  return deploy;
}

export function deployingIds(state: State): string[] {
  return Object.values(state.instances)
    .filter((instance) => instance.state === "deploying")
    .map((instance) => instance.id);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Program names the home's supervisor knows (instances and haproxy). */
export async function supervisedPrograms(home: TestHome): Promise<string[]> {
  const file = join(home.paths.run, "supervisor-programs.json");
  const stored = JSON.parse(readFileSync(file, "utf8")) as { programs: Array<{ spec: { name: string } }> };
  return stored.programs.map((program) => program.spec.name).sort();
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
  for (const port of freedPorts) expect(await isListening(port), `port ${port} is still in use`).toBe(false);
}

/** The failed samples of a load run, in a short form for an assertion message. */
export function failuresOf(samples: LoadSample[]): Array<{ at: number; end: number; error: string }> {
  return samples.filter((sample) => sample.error !== null).map((sample) => ({ at: sample.start, end: sample.end, error: sample.error! }));
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(50);
  }
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

/**
 * One crash case under load: `sarge deploy` of `input` is stopped before
 * `step` (SARGE_PAUSE_AT) and SIGKILLed there; then `sarge list` cleans up.
 * Load runs on the stable port from before the deploy starts until after the
 * cleanup.
 */
export async function killDeployAt(home: TestHome, step: string, input: Buffer): Promise<CrashCaseResult> {
  const before = readState(home.paths);
  const active = Object.values(before.instances).find((instance) => instance.proc === "web" && instance.state === "active")!.id;
  const load = startLoad(home.webPort, { workers: 2 });
  await sleep(200);
  const deploy = await deployPausedAt(home, step, input);
  const halfMade = deployingIds(readState(home.paths));
  await sleep(200);
  await deploy.kill();
  const killed = readState(home.paths);
  const ports = halfMade.map((id) => killed.instances[id]?.port ?? 0).filter((port) => port > 0);
  await sleep(200);
  const list = await home.sarge(["list"]);
  expect(list.code, list.stderr).toBe(0);
  await sleep(200);
  const samples = await load.stop();
  console.log(`SIGKILL before ${step}: ${failuresOf(samples).length} failed of ${samples.length} requests`);
  return {
    active,
    halfMade,
    ports,
    recovery: plainLines(list.stderr),
    servedBy: new Set(samples.flatMap((sample) => (sample.body ? [instanceOf(sample.body) ?? "?"] : []))),
    failures: failuresOf(samples),
    samples: samples.length,
  };
}

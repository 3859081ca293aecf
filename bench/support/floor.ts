/**
 * The floor of a deploy: the same unpack + environment + release command +
 * start done by hand with the same tools and nothing else (no lock, no state,
 * no supervisor, no HAProxy, no retiring), each step timed.
 */
import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { childEnvironment } from "../../src/python-env/child-env.js";
import { pipInstallArgs } from "../../src/python-env/build.js";
import { check, run } from "./cli.js";
import { onCleanup } from "./cleanup.js";
import { reapedChildrenCpuSeconds, waitForPort } from "./proc.js";

export interface FloorTimings {
  /** tar -x of the archive from stdin. */
  unpackMs: number;
  /** venv --without-pip + host pip (cold), or a symlink to an existing venv (warm). */
  environmentMs: number;
  /** The Procfile's release command. */
  releaseMs: number;
  /** Spawn of `python app.py` until its port accepts a connection (polled every 5 ms). */
  startMs: number;
  totalMs: number;
  /** CPU seconds of tar, venv, pip and the release command (not of the app). */
  cpuSeconds: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface FloorOptions {
  archive: Buffer;
  /** A fresh folder to unpack into. */
  dir: string;
  /** The real interpreter (not a pyenv shim), as sarge resolves it. */
  python: string;
  dist: string;
  /** Build a venv (cold), or link this existing one (warm). */
  reuseVenv?: string;
  releaseCommand: string;
  env: Record<string, string>;
}

/** Runs the floor once; the app is stopped again before this resolves. Returns timings and the venv it used. */
export async function floorDeploy(options: FloorOptions): Promise<{ timings: FloorTimings; venv: string }> {
  const { dir, python } = options;
  const started = performance.now();
  let mark = started;
  const lap = () => {
    const at = performance.now();
    const elapsed = at - mark;
    mark = at;
    return elapsed;
  };

  mkdirSync(dir, { recursive: true });
  const cpuBefore = reapedChildrenCpuSeconds();
  check(await run("tar", ["-x", "-f", "-", "-C", dir], { input: options.archive }), "tar -x");
  const unpackMs = lap();

  const venv = join(dir, ".venv");
  if (options.reuseVenv) {
    symlinkSync(options.reuseVenv, venv);
  } else {
    check(await run(python, ["-I", "-m", "venv", "--without-pip", venv], { env: childEnvironment() }), "venv");
    check(
      await run(python, ["-I", "-m", "pip", "--python", join(venv, "bin", "python"), ...pipInstallArgs([options.dist], join(dir, "requirements.txt"))], {
        cwd: dir,
        env: childEnvironment({ pip: true }),
      }),
      "pip install",
    );
  }
  const environmentMs = lap();

  const env = { ...options.env, PATH: `${join(venv, "bin")}:${options.env.PATH ?? "/usr/bin:/bin"}`, VIRTUAL_ENV: venv };
  check(await run("/bin/sh", ["-c", options.releaseCommand], { cwd: dir, env }), "release command");
  const releaseMs = lap();
  const cpuSeconds = reapedChildrenCpuSeconds() - cpuBefore;

  const port = await freePort();
  const app = spawn(join(venv, "bin", "python"), ["app.py"], { cwd: dir, env: { ...env, PORT: String(port) }, stdio: "ignore" });
  const exited = new Promise((resolve) => app.once("exit", resolve));
  const stopApp = onCleanup(`floor app ${app.pid}`, async () => {
    if (app.exitCode !== null || app.signalCode !== null) return;
    app.kill("SIGTERM");
    if ((await Promise.race([exited, sleep(10_000).then(() => "timeout")])) === "timeout") app.kill("SIGKILL");
  });
  let startMs: number;
  try {
    await Promise.race([waitForPort(port, 30_000, 5), exited.then(() => Promise.reject(new Error("the floor's app exited before it was ready")))]);
    startMs = lap();
  } finally {
    await stopApp();
  }
  return { timings: { unpackMs, environmentMs, releaseMs, startMs, totalMs: unpackMs + environmentMs + releaseMs + startMs, cpuSeconds }, venv };
}

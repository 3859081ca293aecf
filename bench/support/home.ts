/**
 * A throwaway sarge home for one benchmark: made by `sarge init`, on free
 * 127.0.0.1 ports, with the builtin supervisor run as a child of the
 * benchmark. destroy() (also registered as a cleanup) stops the supervisor,
 * which stops HAProxy and every app, kills anything left that mentions the
 * home, and removes it.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { packageRoot, sargeBin } from "../../src/util/package-root.js";
import { check, run, type RunOptions, type RunResult } from "./cli.js";
import { onCleanup } from "./cleanup.js";
import { freePortBlock, killProcessesUsing } from "./proc.js";

export interface BenchHome {
  root: string;
  paths: HomePaths;
  /** Stable port of `web` (port_map), on 127.0.0.1. */
  webPort: number;
  portRange: [number, number];
  /** `<home>/bin/sarge <args>`, the wrapper a user runs, as a separate process. */
  sarge(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Starts `<home>/bin/supervisord` and waits for its socket; returns the daemon's pid. */
  startSupervisor(): Promise<number>;
  /** SIGTERM to the supervisor (it stops its programs); SIGKILL after `graceMs`. */
  stopSupervisor(graceMs?: number): Promise<void>;
  supervisorPid(): number | null;
  destroy(): Promise<void>;
}

export interface BenchHomeOptions {
  /** How many instance ports (default 40). */
  rangeSize?: number;
  keepReleases?: number;
  /** Add examples/greeting's wheel to dist/ (default true). */
  greetingWheel?: boolean;
  /** More YAML for etc/sarge.yaml. */
  extraConfig?: string;
}

export async function createBenchHome(options: BenchHomeOptions = {}): Promise<BenchHome> {
  // short: HAProxy's and the supervisor's unix socket paths must stay under 108 bytes
  const parent = mkdtempSync(join(tmpdir(), "sarge-bench-"));
  const root = join(parent, "home");
  const paths = homePaths(root);
  let supervisor: ChildProcess | null = null;

  const stopSupervisor = async (graceMs = 30_000) => {
    const child = supervisor;
    supervisor = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = sleep(graceMs).then(() => "timeout");
    if ((await Promise.race([exited, timer])) === "timeout") {
      process.stderr.write(`the supervisor of ${root} did not stop within ${graceMs} ms: killing it\n`);
      child.kill("SIGKILL");
      await exited;
    }
  };

  const destroy = onCleanup(`home ${root}`, async () => {
    await stopSupervisor();
    const killed = killProcessesUsing(root);
    if (killed > 0) process.stderr.write(`killed ${killed} leftover process(es) of ${root}\n`);
    rmSync(parent, { recursive: true, force: true });
  });

  try {
    check(await run(process.execPath, [sargeBin, "init", root, "--supervisor", "builtin"]), "sarge init");
    const rangeSize = options.rangeSize ?? 40;
    const base = await freePortBlock(rangeSize + 10);
    const webPort = base;
    const portRange: [number, number] = [base + 10, base + 10 + rangeSize - 1];
    writeFileSync(
      paths.config,
      [
        `port_range: [${portRange[0]}, ${portRange[1]}]`,
        "port_map:",
        `  web: 127.0.0.1:${webPort}`,
        "env:",
        '  MESSAGE: "hello sarge!"',
        "supervisor: builtin",
        `keep_releases: ${options.keepReleases ?? 3}`,
        "health:",
        "  timeout: 30s",
        options.extraConfig ?? "",
      ].join("\n") + "\n",
    );
    if (options.greetingWheel !== false) {
      execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), paths.dist], { stdio: "ignore" });
    }
    const wrapper = join(paths.bin, "sarge");
    return {
      root,
      paths,
      webPort,
      portRange,
      sarge: (args, runOptions) => run(wrapper, args, runOptions),
      async startSupervisor() {
        const out = openSync(join(paths.log, "supervisord.out"), "a");
        try {
          supervisor = spawn(join(paths.bin, "supervisord"), [], { stdio: ["ignore", out, out] });
        } finally {
          closeSync(out);
        }
        for (let i = 0; i < 400 && !existsSync(paths.supervisorSocket); i++) {
          if (supervisor.exitCode !== null) break;
          await sleep(25);
        }
        if (!existsSync(paths.supervisorSocket)) {
          throw new Error(`the supervisor did not start: ${readFileSync(join(paths.log, "supervisord.out"), "utf8")}`);
        }
        return supervisor.pid!;
      },
      stopSupervisor,
      supervisorPid: () => supervisor?.pid ?? null,
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

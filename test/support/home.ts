/**
 * A throwaway sarge home for a test or a benchmark: made by `sarge init`, on
 * free 127.0.0.1 ports, with its supervisor run as a child of this process.
 * destroy() stops the supervisor (which stops HAProxy and every app), kills
 * anything left that mentions the home, and removes it.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, closeSync, fchownSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { pinnedDir } from "../../src/home/pinned-sarge.js";
import { sargeVersion } from "../../src/util/version.js";
import { packageRoot } from "../../src/util/package-root.js";
import { runSarge, spawnSarge, type CliOptions, type CliResult, type SargeProcess } from "./cli.js";
import type { SystemUser } from "./system-users.js";
import { freePortBlock } from "./ports.js";
import { killProcessesUsing } from "./processes.js";
import { waitFor } from "./wait.js";

export interface TestHome {
  root: string;
  paths: HomePaths;
  /** The stable port of `web`. */
  webPort: number;
  portRange: [number, number];
  /** `sarge --home <root> args...` to completion. */
  sarge(args: string[], options?: CliOptions): Promise<CliResult>;
  /** `sarge --home <root> args...`, the live process. */
  spawn(args: string[], options?: CliOptions): SargeProcess;
  /** Starts `<home>/bin/supervisord` and waits until its socket answers; returns the daemon's pid. */
  startSupervisor(): Promise<number>;
  /** SIGTERM the supervisor (it stops its programs) and wait for it; SIGKILL after `graceMs`. */
  stopSupervisor(graceMs?: number): Promise<void>;
  supervisorPid(): number | null;
  /** Stop everything, return the processes still using the home (killed), remove it. */
  destroy(): Promise<Array<{ pid: number; cmdline: string }>>;
}

export interface TestHomeOptions {
  /** The folder the home's temp folder is made in (default: the system's temp folder), e.g. a small tmpfs. */
  parent?: string;
  supervisor?: "builtin" | "supervisord";
  /** Extra YAML appended to etc/sarge.yaml. */
  extraConfig?: string;
  /** More env variables beside MESSAGE. */
  moreEnv?: Record<string, string>;
  /** More routed process types, on the ports after web's (webPort + 1, + 2, ...). */
  moreRoutes?: string[];
  /** How many instance ports (default 20). */
  rangeSize?: number;
  /** keep_releases (default 3). */
  keepReleases?: number;
  /** health.timeout (default 15s). */
  healthTimeout?: string;
  /** Put examples/greeting's wheel in dist/ (default true). */
  withGreetingWheel?: boolean;
  /** The sarge executable that runs `init` (default the checkout's bin/sarge): the home pins that one. */
  sarge?: string;
  /** The user the home belongs to (made by root, then handed over): its supervisor and every sarge command run as that user. */
  owner?: SystemUser;
}

/** A fresh home made by `sarge init`, on free ports, with examples/greeting's wheel in dist/. */
export async function createTestHome(options: TestHomeOptions = {}): Promise<TestHome> {
  // short: HAProxy's and the supervisor's unix socket paths must stay under 108 bytes
  const root = join(mkdtempSync(join(options.parent ?? tmpdir(), "sarge-")), "home");
  const paths = homePaths(root);
  if (!options.sarge) await seedPinnedCopy(paths);
  const init = await runSarge(["init", root, "--supervisor", options.supervisor ?? "builtin"], options.sarge ? { bin: options.sarge } : {});
  if (init.code !== 0) throw new Error(`sarge init failed: ${init.stderr}`);
  const rangeSize = options.rangeSize ?? 20;
  const webPort = await freePortBlock(rangeSize + 10);
  const portRange: [number, number] = [webPort + 10, webPort + 10 + rangeSize - 1];
  writeFileSync(
    paths.config,
    [
      `port_range: [${portRange[0]}, ${portRange[1]}]`,
      "port_map:",
      `  web: 127.0.0.1:${webPort}`,
      ...(options.moreRoutes ?? []).map((proc, i) => `  ${proc}: 127.0.0.1:${webPort + 1 + i}`),
      "env:",
      '  MESSAGE: "hello sarge!"',
      ...Object.entries(options.moreEnv ?? {}).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`),
      `supervisor: ${options.supervisor ?? "builtin"}`,
      `keep_releases: ${options.keepReleases ?? 3}`,
      "health:",
      `  timeout: ${options.healthTimeout ?? "15s"}`,
      options.extraConfig ?? "",
    ].join("\n") + "\n",
  );
  if (options.withGreetingWheel !== false) {
    execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), paths.dist], { stdio: "ignore" });
  }
  const owner = options.owner;
  // -R never follows the link to the shared pinned copy; -h hands over the link itself
  if (owner) execFileSync("chown", ["-R", "-h", `${owner.uid}:${owner.gid}`, join(root, "..")]);
  // another user runs the home's own pinned sarge, from the home: the checkout may sit in a folder only root can enter (a clean clone under mktemp -d)
  const asOwner = owner && { user: owner, bin: join(paths.bin, "sarge"), cwd: root };
  let supervisor: ChildProcess | null = null;
  const home: TestHome = {
    root,
    paths,
    webPort,
    portRange,
    sarge: (args, cliOptions) => runSarge(["--home", root, ...args], { ...asOwner, ...cliOptions }),
    spawn: (args, cliOptions) => spawnSarge(["--home", root, ...args], { ...asOwner, ...cliOptions }),
    async startSupervisor() {
      const outFile = join(paths.log, "supervisord.out");
      const out = openSync(outFile, "a");
      try {
        if (owner) fchownSync(out, owner.uid, owner.gid);
        const ownerSpawn = owner && { uid: owner.uid, gid: owner.gid, env: { ...process.env, HOME: owner.home, USER: owner.name, LOGNAME: owner.name } };
        supervisor = spawn(join(paths.bin, "supervisord"), [], { stdio: ["ignore", out, out], ...ownerSpawn });
      } finally {
        closeSync(out);
      }
      const daemon = supervisor;
      // a daemon killed with SIGKILL leaves its socket file behind: wait until one answers
      await waitFor(
        async () => {
          if (daemon.exitCode !== null || daemon.signalCode !== null) throw new Error(`the supervisor did not start: ${readFileSync(outFile, "utf8")}`);
          return socketAccepts(paths.supervisorSocket);
        },
        () => `the supervisor's socket to answer: ${readFileSync(outFile, "utf8")}`,
        // a Node daemon's start took over 10 s at a load average of 30
        30_000,
      );
      return daemon.pid!;
    },
    async stopSupervisor(graceMs = 90_000) {
      const child = supervisor;
      supervisor = null;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      if ((await Promise.race([exited, sleep(graceMs, "timeout")])) === "timeout") {
        process.stderr.write(`the supervisor of ${root} did not stop within ${graceMs} ms: killing it\n`);
        child.kill("SIGKILL");
        await exited;
      }
    },
    supervisorPid: () => supervisor?.pid ?? null,
    async destroy() {
      await home.stopSupervisor();
      const leftovers = killProcessesUsing(root);
      rmSync(join(root, ".."), { recursive: true, force: true });
      return leftovers;
    },
  };
  return home;
}

let sharedCopy: Promise<string> | undefined;

/**
 * The checkout's pinned copy, made once per test process by a real `sarge
 * init` and linked into each home as opt/sarge-<version>, which init then
 * uses as it is: copying ~3,500 files takes seconds per home on a loaded
 * machine. init.test.ts, upgrade.test.ts and package.test.ts make real copies.
 */
async function seedPinnedCopy(paths: HomePaths): Promise<void> {
  sharedCopy ??= (async () => {
    const scratch = join(mkdtempSync(join(tmpdir(), "sarge-pinned-")), "home");
    chmodSync(join(scratch, ".."), 0o755); // homes of other owners run it too (e2e home-ownership.test.ts)
    process.once("exit", () => rmSync(join(scratch, ".."), { recursive: true, force: true }));
    const init = await runSarge(["init", scratch]);
    if (init.code !== 0) throw new Error(`sarge init failed: ${init.stderr}`);
    return pinnedDir(homePaths(scratch), sargeVersion());
  })();
  mkdirSync(paths.opt, { recursive: true });
  symlinkSync(await sharedCopy, pinnedDir(paths, sargeVersion()));
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

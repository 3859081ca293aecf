import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import getPort from "get-port";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { packageRoot } from "../../src/util/package-root.js";
import { helloVersion } from "./apps.js";
import { runSarge, type CliOptions, type CliResult } from "./cli.js";
import { get } from "./load.js";
import { processesUsing } from "./processes.js";

export interface TestHome {
  root: string;
  paths: HomePaths;
  /** The stable port of `web`. */
  webPort: number;
  portRange: [number, number];
  sarge(args: string[], options?: CliOptions): Promise<CliResult>;
  startSupervisor(): Promise<void>;
  /** SIGTERM the supervisor and wait for it (it stops its programs). */
  stopSupervisor(): Promise<void>;
  /** Stop everything, return the processes still using the home, remove it. */
  destroy(): Promise<Array<{ pid: number; cmdline: string }>>;
}

export interface TestHomeOptions {
  supervisor?: "builtin" | "supervisord";
  /** Extra YAML appended to etc/sarge.yaml. */
  extraConfig?: string;
  /** More routed process types, on the ports after web's (webPort + 1, + 2, ...). */
  moreRoutes?: string[];
  /** How many instance ports (default 20). */
  rangeSize?: number;
  withGreetingWheel?: boolean;
}

/** A fresh home made by `sarge init`, on free ports, with examples/greeting's wheel in dist/. */
export async function createTestHome(options: TestHomeOptions = {}): Promise<TestHome> {
  const root = join(mkdtempSync(join(tmpdir(), "sarge-")), "home");
  const paths = homePaths(root);
  const init = await runSarge(["init", root, "--supervisor", options.supervisor ?? "builtin"]);
  if (init.code !== 0) throw new Error(`sarge init failed: ${init.stderr}`);
  const webPort = await freeBase();
  const portRange: [number, number] = [webPort + 10, webPort + 10 + (options.rangeSize ?? 20) - 1];
  writeFileSync(
    paths.config,
    [
      `port_range: [${portRange[0]}, ${portRange[1]}]`,
      "port_map:",
      `  web: 127.0.0.1:${webPort}`,
      ...(options.moreRoutes ?? []).map((proc, i) => `  ${proc}: 127.0.0.1:${webPort + 1 + i}`),
      "env:",
      '  MESSAGE: "hello sarge!"',
      `supervisor: ${options.supervisor ?? "builtin"}`,
      "keep_releases: 3",
      "health:",
      "  timeout: 15s",
      options.extraConfig ?? "",
    ].join("\n") + "\n",
  );
  if (options.withGreetingWheel !== false) {
    execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), paths.dist]);
  }
  let supervisor: ChildProcess | null = null;
  const home: TestHome = {
    root,
    paths,
    webPort,
    portRange,
    sarge: (args, cliOptions) => runSarge(["--home", root, ...args], cliOptions),
    async startSupervisor() {
      const out = openSync(join(paths.log, "supervisord.out"), "a");
      supervisor = spawn(join(root, "bin", "supervisord"), [], { stdio: ["ignore", out, out] });
      // a daemon killed with SIGKILL leaves its socket file behind: wait until one answers
      for (let i = 0; i < 200 && !(await socketAccepts(paths.supervisorSocket)); i++) await sleep(50);
      if (!(await socketAccepts(paths.supervisorSocket))) throw new Error(`the supervisor did not start: ${readFileSync(join(paths.log, "supervisord.out"), "utf8")}`);
    },
    async stopSupervisor() {
      const child = supervisor;
      supervisor = null;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(90_000)]);
    },
    async destroy() {
      await home.stopSupervisor();
      const leftovers = processesUsing(root);
      for (const { pid } of leftovers) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      rmSync(join(root, ".."), { recursive: true, force: true });
      return leftovers;
    },
  };
  return home;
}

/** A test home with its supervisor running and `version` of the hello app deployed as web; with what web answers. */
export async function servingHome(options: TestHomeOptions = {}, version = "stable"): Promise<{ home: TestHome; serving: string }> {
  const home = await createTestHome(options);
  await home.startSupervisor();
  const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion(version) });
  if (first.code !== 0) throw new Error(`the first deploy failed: ${first.stderr}`);
  return { home, serving: await get(home.webPort) };
}

/** A base port B with B free and B+10.. likely free: random in 20000-31900 by steps of 100. */
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

async function freeBase(): Promise<number> {
  for (;;) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 120);
    if ((await getPort({ port: base, host: "127.0.0.1" })) === base) return base;
  }
}

/**
 * A private supervisord (Debian's `supervisor` package) as the peer: its own
 * temp config, unix socket and logs, run in the foreground as a child of the
 * benchmark. Never the system one. Programs get the settings sarge's
 * supervisord backend uses (stopasgroup, killasgroup, autorestart, startsecs=1).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { run, type RunResult } from "./cli.js";
import { onCleanup } from "./cleanup.js";
import { killProcessesUsing } from "../../test/support/processes.js";
import { isAlive } from "./proc.js";

export interface PeerProgram {
  name: string;
  command: string;
  directory: string;
  environment: Record<string, string>;
}

export interface PrivateSupervisord {
  dir: string;
  config: string;
  pid: number;
  /** Rewrite the config with these programs (added to the ones it has) and `supervisorctl update`. */
  add(programs: PeerProgram[]): Promise<void>;
  /** `supervisorctl -c <config> <args>`, as a whole process. */
  ctl(args: string[]): Promise<RunResult>;
  /** Waits until every program is RUNNING; throws after timeoutMs. */
  waitRunning(timeoutMs?: number): Promise<void>;
  pidOf(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** supervisor's config parser interpolates %(name)s: a literal % is written %%. */
function value(text: string): string {
  return `"${text.replace(/%/g, "%%").replace(/"/g, '\\"')}"`;
}

function render(dir: string, programs: PeerProgram[]): string {
  const lines = [
    "[unix_http_server]",
    `file=${join(dir, "supervisor.sock")}`,
    "chmod=0700",
    "",
    "[supervisord]",
    `logfile=${join(dir, "supervisord.log")}`,
    `pidfile=${join(dir, "supervisord.pid")}`,
    `childlogdir=${join(dir, "logs")}`,
    "nodaemon=true",
    "",
    "[rpcinterface:supervisor]",
    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
    "",
    "[supervisorctl]",
    `serverurl=unix://${join(dir, "supervisor.sock")}`,
  ];
  for (const program of programs) {
    lines.push(
      "",
      `[program:${program.name}]`,
      `command=${program.command.replace(/%/g, "%%")}`,
      `directory=${program.directory}`,
      `environment=${Object.entries(program.environment)
        .map(([key, text]) => `${key}=${value(text)}`)
        .join(",")}`,
      "autostart=true",
      "autorestart=true",
      "startsecs=1",
      "startretries=1000",
      "stopasgroup=true",
      "killasgroup=true",
      "stopwaitsecs=10",
      "redirect_stderr=true",
      `stdout_logfile=${join(dir, "logs", `${program.name}.log`)}`,
    );
  }
  return lines.join("\n") + "\n";
}

export async function startSupervisord(programs: PeerProgram[]): Promise<PrivateSupervisord> {
  const dir = mkdtempSync(join(tmpdir(), "sarge-bench-supervisord-"));
  mkdirSync(join(dir, "logs"));
  const config = join(dir, "supervisord.conf");
  const all = [...programs];
  writeFileSync(config, render(dir, all));
  const child: ChildProcess = spawn("supervisord", ["-n", "-c", config], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ctl = (args: string[]) => run("supervisorctl", ["-c", config, ...args]);
  const stop = onCleanup(`supervisord ${dir}`, async () => {
    // its programs' pids first: anything of theirs still alive after supervisord is gone gets killed
    const pids = child.exitCode === null ? ((await ctl(["pid", "all"]).catch(() => null))?.stdout.match(/^\d+$/gm) ?? []).map(Number) : [];
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if ((await Promise.race([exited, sleep(30_000).then(() => "timeout")])) === "timeout") child.kill("SIGKILL");
    }
    for (const pid of pids.filter((candidate) => candidate > 0 && isAlive(candidate))) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // gone, or no such group
        }
      }
    }
    killProcessesUsing(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`supervisord exited (${child.exitCode}) at start`);
      const result = await ctl(["pid"]);
      if (result.code === 0 && /^\d+$/.test(result.stdout.trim())) break;
      if (i > 200) throw new Error(`supervisord did not answer: ${result.stdout}${result.stderr}`);
      await sleep(50);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    dir,
    config,
    pid: child.pid!,
    async add(more) {
      all.push(...more);
      writeFileSync(config, render(dir, all));
      const result = await ctl(["update"]);
      if (result.code !== 0) throw new Error(`supervisorctl update failed: ${result.stdout}${result.stderr}`);
    },
    ctl,
    async waitRunning(timeoutMs = 120_000) {
      const started = Date.now();
      for (;;) {
        const lines = (await ctl(["status"])).stdout.trim().split("\n").filter(Boolean);
        if (lines.length === all.length && lines.every((line) => /\sRUNNING\s/.test(line))) return;
        if (Date.now() - started > timeoutMs) throw new Error(`supervisord programs not all RUNNING after ${timeoutMs} ms:\n${lines.join("\n")}`);
        await sleep(250);
      }
    },
    async pidOf(name) {
      const pid = Number((await ctl(["pid", name])).stdout.trim());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`supervisord has no pid for ${name}`);
      return pid;
    },
    stop,
  };
}

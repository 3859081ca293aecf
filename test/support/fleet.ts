/**
 * Three sarge homes on this machine, each reached through its own sshd on a
 * loopback port with its own user and key (ssh aliases h1, h2, h3 in one ssh
 * config; users sarge-fleet-a, -b, -c, created when missing, each owning its
 * home, whose supervisor and deploys run as that user),
 * and a front HAProxy balancing their three stable ports, with a runtime API
 * socket; load runs through the front from the first test to the last.
 * test/e2e/fleet.test.ts shares one across its describe block; bench/fleet.ts
 * measures pushes on one (docs/fleet.md).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helloDir, helloVersion } from "./apps.js";
import { runSarge, spawnSarge, type CliOptions, type CliResult, type SargeProcess } from "./cli.js";
import { git } from "./git.js";
import { createTestHome, type TestHome, type TestHomeOptions } from "./home.js";
import type { LoadSample } from "./load.js";
import { freePortBlock } from "./ports.js";
import { startSshd, type TestSshd } from "./sshd.js";
import { ensureUser, type SystemUser } from "./system-users.js";
import { waitFor } from "./wait.js";

export const HOST_NAMES = ["h1", "h2", "h3"] as const;
const HOST_USERS = ["sarge-fleet-a", "sarge-fleet-b", "sarge-fleet-c"] as const;

export interface Fleet {
  homes: TestHome[];
  /** Each home's owner, the user its sshd lets in. */
  users: SystemUser[];
  /** `h1:/tmp/…/home,h2:…,h3:…`, the --hosts of a push to all three. */
  hosts: string;
  /** `ssh -F <config>`: the aliases h1..h3 with their ports and keys. */
  sshCommand: string;
  sshds: TestSshd[];
  /** The app's git checkout (examples/hello). */
  repo: string;
  frontPort: number;
  /** The front's runtime API socket (its backend is "app", servers h1..h3). */
  frontSocket: string;
  /** Commit other edits and app.py with VERSION = version in the checkout; returns the commit id. */
  commit(version: string, edits?: Record<string, (old: string) => string>): string;
  /** `sarge push --hosts <all three> --ssh … <args>` in the checkout. */
  push(args: string[], options?: CliOptions & { hosts?: string }): Promise<CliResult>;
  spawnPush(args: string[], options?: CliOptions & { hosts?: string }): SargeProcess;
  /** One command on the front's runtime API, its answer. */
  front(command: string): Promise<string>;
  /** The load through the front, when one runs. */
  load: LoadSample[];
}

/**
 * Starts the homes (each with examples/hello v1 deployed), their sshds and
 * the front; `stop()` stops all of it and returns the processes a home left.
 * `homeOptions[i]` are the options of host i's home.
 */
export async function startFleet(homeOptions: TestHomeOptions[] = []): Promise<Fleet & { stop(): Promise<Array<{ pid: number; cmdline: string }>> }> {
  const work = mkdtempSync(join(tmpdir(), "sarge-fleet-"));
  // each host's user reaches its sshd's authorized_keys and (h1's) the front's socket in here
  chmodSync(work, 0o711);
  const users: SystemUser[] = [];
  const homes: TestHome[] = [];
  const sshds: TestSshd[] = [];
  let front: ChildProcess | null = null;
  const stop = async () => {
    front?.kill("SIGTERM");
    for (const sshd of sshds) sshd.child.kill("SIGTERM");
    const leftovers = [];
    for (const home of homes) leftovers.push(...(await home.destroy()));
    rmSync(work, { recursive: true, force: true });
    return leftovers;
  };
  try {
    const entries: string[] = [];
    for (const [index, name] of HOST_NAMES.entries()) {
      const dir = join(work, `ssh-${name}`);
      mkdirSync(dir);
      const user = await ensureUser(HOST_USERS[index]!);
      users.push(user);
      const sshd = await startSshd(dir, user.name);
      sshds.push(sshd);
      entries.push(sshd.configEntry(name));
      const home = await createTestHome({ extraConfig: "  http_path: /up", owner: user, ...homeOptions[index] });
      homes.push(home);
      await home.startSupervisor();
      const first = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v1") });
      if (first.code !== 0) throw new Error(`the first deploy on ${name} failed: ${first.stderr}`);
    }
    writeFileSync(join(work, "ssh_config"), entries.join("\n"));
    const sshCommand = `ssh -F ${join(work, "ssh_config")}`;
    const hosts = HOST_NAMES.map((name, index) => `${name}:${homes[index]!.root}`).join(",");

    const repo = join(work, "app");
    cpSync(helloDir, repo, { recursive: true });
    git(repo, "init", "-q");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "v1");

    const frontPort = await freePortBlock(1);
    const frontSocket = join(work, "front.sock");
    writeFileSync(
      join(work, "front.cfg"),
      [
        "global",
        // --lb reaches it through h1, as h1's user
        `  stats socket ${frontSocket} user ${users[0]!.name} mode 600 level admin`,
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 30s",
        "  timeout server 30s",
        "frontend front",
        `  bind 127.0.0.1:${frontPort}`,
        "  default_backend app",
        "backend app",
        "  balance roundrobin",
        ...HOST_NAMES.map((name, index) => `  server ${name} 127.0.0.1:${homes[index]!.webPort}`),
      ].join("\n") + "\n",
    );
    let frontLog = "";
    front = spawn("haproxy", ["-db", "-f", join(work, "front.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    front.stdout!.on("data", (chunk: Buffer) => (frontLog += chunk.toString()));
    front.stderr!.on("data", (chunk: Buffer) => (frontLog += chunk.toString()));
    const frontCommand = (command: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(frontSocket);
        let answer = "";
        socket.on("data", (chunk) => (answer += chunk.toString()));
        socket.once("connect", () => socket.end(`${command}\n`));
        socket.once("close", () => resolve(answer));
        socket.once("error", reject);
      });
    await waitFor(async () => (await frontCommand("show info").catch(() => "")).includes("Name: HAProxy"), () => `the front HAProxy to answer: ${frontLog}`, 10_000);

    const pushArgs = (args: string[], hostList?: string) => ["push", "--hosts", hostList ?? hosts, "--ssh", sshCommand, ...args];
    return {
      homes,
      users,
      sshds,
      hosts,
      sshCommand,
      repo,
      frontPort,
      frontSocket,
      load: [],
      stop,
      front: frontCommand,
      push: (args, options = {}) => runSarge(pushArgs(args, options.hosts), { cwd: repo, timeoutMs: 600_000, ...options }),
      spawnPush: (args, options = {}) => spawnSarge(pushArgs(args, options.hosts), { cwd: repo, timeoutMs: 600_000, ...options }),
      commit(version, edits = {}) {
        const setVersion = (old: string) => old.replace(/VERSION = "[^"]*"/, `VERSION = "${version}"`);
        for (const [file, edit] of Object.entries({ "app.py": (old: string) => old, ...edits })) {
          const path = join(repo, file);
          const text = edit(readFileSync(path, "utf8"));
          writeFileSync(path, file === "app.py" ? setVersion(text) : text);
        }
        git(repo, "commit", "-q", "-am", version);
        return git(repo, "rev-parse", "HEAD").trim();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The requests of `samples` that failed (no 200). */
export function failures(samples: LoadSample[]): LoadSample[] {
  return samples.filter((sample) => sample.status !== 200);
}

/** The admin state of each front server as `show servers state` prints it: 0 ready, 1 maint, 8 drain (see HAProxy's management guide). */
export async function frontStates(fleet: Fleet): Promise<Record<string, "ready" | "drain" | "maint" | string>> {
  // the first line is the format version ("1"); server lines have 20-odd fields
  const lines = (await fleet.front("show servers state app")).split("\n").filter((line) => /^\d+ \S+ \d+ /.test(line));
  return Object.fromEntries(
    lines.map((line) => {
      const fields = line.split(" ");
      // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state …
      const admin = Number(fields[6]);
      return [fields[3]!, admin & 8 ? "drain" : admin & 1 ? "maint" : admin === 0 ? "ready" : String(admin)];
    }),
  );
}

import { resolve } from "node:path";
import { parseDuration } from "../home/duration.js";
import { readDotenvFiles } from "../procfile/dotenv.js";
import { ConfigError } from "../util/errors.js";
import { fleetPush, type FleetResult } from "./fleet.js";
import { resolveHosts, type FleetHosts } from "./hosts.js";
import { haproxyOverSsh } from "./load-balancer.js";
import { FleetProgress } from "./progress.js";
import { archiveBytes, checkoutSource, parseTarget } from "./push.js";
import type { HostSession } from "./session.js";
import { sshSession } from "./ssh-session.js";
import { shareSshConnections } from "./ssh-sharing.js";

/** `sarge push` options as the command line gives them (docs/fleet.md). */
export interface FleetCliOptions {
  hosts?: string;
  procs: string[];
  dirty?: boolean;
  ssh?: string;
  envFile?: string;
  cwd?: string;
  parallel?: string;
  limit?: string;
  wait?: string;
  verify?: string;
  onFailure?: string;
  waitLock?: string;
  lb?: string;
  lbBackend?: string;
  drainTimeout?: string;
  say?: (line: string) => void;
}

export interface FleetPlan {
  hosts: FleetHosts;
  sessions: HostSession[];
  sshCommand: string;
}

/** The hosts of a fleet push and an ssh session to each; null when no hosts list is given anywhere (a one-target push). */
export function planFleet(options: Pick<FleetCliOptions, "hosts" | "ssh" | "envFile" | "cwd">): FleetPlan | null {
  const cwd = resolve(options.cwd ?? process.cwd());
  const envFile = resolve(cwd, options.envFile ?? ".env");
  const dotenv = readDotenvFiles([envFile]);
  const hosts = resolveHosts(options.hosts, dotenv, envFile, cwd);
  if (hosts === null) return null;
  const sshCommand = options.ssh ?? dotenv.get("SARGE_SSH") ?? process.env.SARGE_SSH ?? "ssh";
  return { hosts, sshCommand, sessions: hosts.hosts.map((target) => sshSession(target, sshCommand)) };
}

/** Push HEAD (or the working tree with --dirty) to every host of the plan. */
export async function runFleet(plan: FleetPlan, options: FleetCliOptions): Promise<FleetResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const say = options.say ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const onFailure = options.onFailure ?? "rollback";
  if (onFailure !== "rollback" && onFailure !== "stop") throw new ConfigError(`--on-failure ${JSON.stringify(onFailure)}: expected rollback or stop`);
  if ((options.lb === undefined) !== (options.lbBackend === undefined)) throw new ConfigError("--lb and --lb-backend go together: the load balancer's runtime socket and the backend holding one server per host");
  const parallel = options.parallel === undefined ? plan.sessions.length : Number(options.parallel);
  if (!Number.isInteger(parallel) || parallel < 1) throw new ConfigError(`--parallel ${JSON.stringify(options.parallel)}: expected a number of hosts, 1 or more`);
  const { treeish, commit } = checkoutSource(cwd, resolve(cwd, options.envFile ?? ".env"), options.dirty ?? false);
  const lbTarget = options.lb === undefined ? null : parseTarget(options.lb, "--lb");
  const what = commit ? `HEAD (${commit.slice(0, 12)})` : `the working tree (tree ${treeish.slice(0, 12)})`;
  const waitMs = seconds("--wait", options.wait, "0");
  const verifySeconds = options.verify === undefined ? null : seconds("--verify", options.verify, "0") / 1000;
  const waitLockSeconds = Math.ceil(seconds("--wait-lock", options.waitLock, "300") / 1000);
  const drainTimeoutMs = seconds("--drain-timeout", options.drainTimeout, "30");
  const sharing = shareSshConnections(plan.sshCommand);
  try {
    const lb = lbTarget && haproxyOverSsh(lbTarget, options.lbBackend!, plan.sshCommand, sharing.options(lbTarget));
    say(`sarge push: ${what} to ${plan.sessions.length} hosts from ${plan.hosts.source}${lb ? `, through ${lb.label}` : ""}`);
    const sessions = plan.hosts.hosts.map((target) => sshSession(target, plan.sshCommand, sharing.options(target)));
    return await fleetPush(sessions, {
      procs: options.procs.length > 0 ? [...new Set(options.procs)] : ["web"],
      archive: archiveBytes(cwd, treeish),
      commit,
      parallel,
      limit: options.limit ?? "1",
      waitMs,
      verifySeconds,
      onFailure,
      waitLockSeconds,
      lb,
      drainTimeoutMs,
      progress: new FleetProgress(sessions.map((session) => session.label), say),
    });
  } finally {
    await sharing.close();
  }
}

function seconds(flag: string, value: string | undefined, fallback: string): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === null) throw new ConfigError(`${flag} ${JSON.stringify(value)}: expected seconds (30, 2.5 or 30s, 2m)`);
  return ms;
}

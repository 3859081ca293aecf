import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import * as steps from "./host-steps.js";
import type { LoadBalancer } from "./load-balancer.js";
import { inBatches, rolloutGroups } from "./pacing.js";
import type { FleetProgress, HostRow, Phase } from "./progress.js";
import type { HeldLock, HostSession } from "./session.js";
import { compareText } from "../util/compare-text.js";

/**
 * A fleet push (docs/fleet.md): one release over several hosts as one
 * transaction. Every host answers, every lock is held (in sorted order), the
 * release is staged everywhere (phase A) before any host switches (phase B,
 * in groups, each switch verified); a failure in A leaves every host as it
 * was, a failure in B switches the moved hosts back to exactly what each ran.
 */
export interface FleetPushOptions {
  procs: string[];
  archive: Buffer;
  commit: string | null;
  /** Hosts staging at once. */
  parallel: number;
  /** `N` or `P%`: hosts switching at once. */
  limit: string;
  /** Pause between two groups. */
  waitMs: number;
  /** How long each host is verified after its switch; null: until its stable addresses pass VERIFY_PASSES probes in a row. */
  verifySeconds: number | null;
  onFailure: "rollback" | "stop";
  waitLockSeconds: number;
  lb: LoadBalancer | null;
  drainTimeoutMs: number;
  pushId?: string;
  progress: FleetProgress;
}

export type FleetOutcome = "pushed" | "not staged" | "rolled back" | "stopped";

export interface FleetResult {
  pushId: string;
  commit: string | null;
  outcome: FleetOutcome;
  /** 0 pushed, 1 nothing changed (staging failed), 2 a switch or verification failed. */
  exitCode: number;
  durationMs: number;
  hosts: Array<HostRow & { name: string; before: steps.ActiveInstance[]; staged: number | null; moved: boolean }>;
}

interface Host {
  session: HostSession;
  lock: HeldLock;
  env: Record<string, string>;
  before: steps.ActiveInstance[];
  staged: steps.StagedRelease | null;
  /** Switched to the staged release (and not switched back). */
  moved: boolean;
  drained: boolean;
  /** Its activation under way, waiting before its switch for its turn. */
  prepared: steps.PreparedActivation | null;
  /** Said at the end: what went wrong after its switch. */
  warning: string | null;
  /** The end of its activation (retire, record), which may outlast the switch and the verification; never rejects. */
  finishing: Promise<void>;
}

export function newPushId(): string {
  return `push-${new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${randomBytes(3).toString("hex")}`;
}

export async function fleetPush(sessions: HostSession[], options: FleetPushOptions): Promise<FleetResult> {
  const started = Date.now();
  const pushId = options.pushId ?? newPushId();
  const { progress, lb } = options;
  const order = rolloutGroups(sessions, options.limit);
  await checkAll(sessions, options);
  const locks = await lockAll(sessions, pushId, options);
  const hosts: Host[] = sessions.map((session) => ({
    session,
    lock: locks.get(session)!,
    env: { SARGE_LOCK_TOKEN: locks.get(session)!.token, SARGE_PUSH_ID: pushId },
    before: [],
    staged: null,
    moved: false,
    drained: false,
    prepared: null,
    warning: null,
    finishing: Promise.resolve(),
  }));
  /** The next group's activations, waiting before their switch, cancelled: their staged releases stay staged. */
  const abortPrepared = () =>
    Promise.all(
      hosts.map(async (host) => {
        const prepared = host.prepared;
        host.prepared = null;
        await prepared?.abort();
      }),
    );
  /** Every activation ended: before the push reports, rolls a host back or lets the locks go. */
  const activationsEnded = () => Promise.all(hosts.map((host) => host.finishing));

  /** One phase of one host, its row kept up to date; false when it failed. */
  const step = async (host: Host, phase: Phase, work: () => Promise<string | null | void>): Promise<boolean> => {
    progress.start(host.session.label, phase);
    try {
      progress.finish(host.session.label, "ok", (await work()) ?? null);
      return true;
    } catch (error) {
      progress.finish(host.session.label, "failed", (error as Error).message);
      return false;
    }
  };
  const showRuns = (host: Host) => {
    const release = host.moved ? host.staged : host.before.reduce<steps.StagedRelease | null>((top, b) => (top && top.release >= b.release ? top : b), null);
    progress.runs(host.session.label, steps.describeRelease(release?.release ?? null, release?.commit ?? null));
  };
  /** The host's command environment, without the lock's token once its hold's session was lost: the command then waits for the lock the hold may still use. */
  const lockedEnv = (host: Host): Record<string, string> => {
    if (!host.lock.lost?.()) return host.env;
    const { SARGE_LOCK_TOKEN: _lost, ...rest } = host.env;
    return rest;
  };
  const discardStaged = (list: Host[]) =>
    Promise.all(
      list
        .filter((host) => host.staged !== null && !host.moved)
        .map((host) => step(host, "discard", () => steps.discard(host.session, host.staged!.release, lockedEnv(host))).then((ok) => ok && (host.staged = null))),
    );
  /** False when the load balancer refused: a host that cannot be drained is not switched. */
  const setLb = async (host: Host, state: "drain" | "ready"): Promise<boolean> => {
    if (!lb || (state === "drain") === host.drained) return true;
    return step(host, state === "drain" ? "drain" : "ready", async () => {
      await lb.setState(host.session.name, state);
      host.drained = state === "drain";
      if (state === "ready") return;
      const drained = await pollUntil(async () => (await lb.currentSessions(host.session.name)) === 0, { timeoutMs: options.drainTimeoutMs, intervalMs: 200 });
      return drained ? null : `--drain-timeout passed with sessions still open on ${host.session.name}: switching anyway`;
    });
  };
  const finish = (outcome: FleetOutcome, exitCode: number): FleetResult => {
    for (const host of hosts) showRuns(host);
    const rows = new Map(progress.table().map((row) => [row.host, row]));
    return {
      pushId,
      commit: options.commit,
      outcome,
      exitCode,
      durationMs: Date.now() - started,
      hosts: hosts.map((host) => ({ ...rows.get(host.session.label)!, name: host.session.name, before: host.before, staged: host.staged?.release ?? null, moved: host.moved })),
    };
  };

  try {
    const recorded = await Promise.all(hosts.map((host) => step(host, "check", async () => void (host.before = await steps.activeInstances(host.session, host.lock, options.procs, host.env)))));
    if (recorded.includes(false)) throw new SargeError("could not read what every host runs: nothing was changed");
    hosts.forEach(showRuns);

    // Phase A: stage everywhere; any failure discards everywhere.
    let stageFailed = false;
    await inBatches(
      hosts,
      options.parallel,
      async (host) => {
        const ok = await step(host, "stage", async () => {
          host.staged = await steps.stage(host.session, options.archive, options.procs, host.env);
          return `staged ${steps.describeRelease(host.staged.release, host.staged.commit)}`;
        });
        stageFailed ||= !ok;
      },
      () => stageFailed,
    );
    if (stageFailed) {
      await discardStaged(hosts);
      return finish("not staged", 1);
    }

    // Phase B: switch group by group; every host of a group is verified before the next group switches, every activation ends before the undo.
    const groups = order.map((group) => group.map((session) => hosts.find((host) => host.session === session)!));
    const movedInOrder: Host[] = [];
    let failed = false;
    for (const [index, group] of groups.entries()) {
      if (index > 0 && options.waitMs > 0) await sleep(options.waitMs);
      let toSwitch = group.length;
      let switchFailed = false;
      // once every host of the group has switched, the next group does its pre-switch work while this one is verified
      const switchedOne = (ok: boolean) => {
        switchFailed ||= !ok;
        if (--toSwitch > 0 || switchFailed) return;
        for (const host of groups[index + 1] ?? []) host.prepared = steps.prepareActivation(host.lock, host.staged!.release);
      };
      const results = await Promise.all(
        group.map(async (host) => {
          if (!(await setLb(host, "drain"))) {
            switchedOne(false);
            return false;
          }
          const activated = await step(host, "activate", async () => {
            const prepared = host.prepared;
            host.prepared = null;
            const { finished } = await (prepared ? prepared.go() : steps.activate(host.session, host.lock, host.staged!.release, host.env));
            host.moved = true;
            movedInOrder.push(host);
            // switched: retire and record go on while the host is verified (and the next group switches); a failure there only warns
            host.finishing = finished.catch((error: unknown) => void (host.warning = `switched, but its activation ended with: ${(error as Error).message}`));
          });
          switchedOne(activated);
          if (!activated) {
            await setLb(host, "ready");
            return false;
          }
          const verified = await step(host, "verify", () => steps.verify(host.session, host.lock, options.procs, options.verifySeconds, host.env));
          if (verified) await setLb(host, "ready");
          return verified;
        }),
      );
      if (results.includes(false)) {
        failed = true;
        break;
      }
    }
    await abortPrepared();
    await activationsEnded();
    if (!failed) {
      for (const host of hosts) {
        progress.start(host.session.label, "done");
        progress.finish(host.session.label, "ok", host.warning);
      }
      return finish("pushed", 0);
    }

    await discardStaged(hosts);
    if (options.onFailure === "stop") {
      for (const host of movedInOrder.filter((h) => h.drained)) progress.finish(host.session.label, "failed", `left drained in the load balancer`);
      return finish("stopped", 2);
    }
    for (const host of movedInOrder.reverse()) {
      await setLb(host, "drain");
      const back = await step(host, "rollback", async () => {
        await steps.switchBack(host.session, host.before, lockedEnv(host));
        host.moved = false;
        const none = options.procs.filter((proc) => !host.before.some((b) => b.proc === proc));
        return none.length > 0 ? `${none.join(", ")} ran nothing before: left on the new release` : `back on ${host.before.map((b) => b.id).join(", ")}`;
      });
      if (back) await setLb(host, "ready");
    }
    return finish("rolled back", 2);
  } finally {
    await abortPrepared();
    await activationsEnded();
    for (const session of [...locks.keys()].reverse()) await locks.get(session)!.release();
  }
}

/** Every host must answer (ssh, sarge, its supervisor) and the load balancer must know each of them, before anything is locked. */
async function checkAll(sessions: HostSession[], options: FleetPushOptions): Promise<void> {
  const problems = (
    await Promise.all(
      sessions.map(async (session) => {
        options.progress.start(session.label, "check");
        try {
          await steps.checkHost(session);
          options.progress.finish(session.label, "ok");
          return [];
        } catch (error) {
          options.progress.finish(session.label, "failed", (error as Error).message);
          return [`${session.label}: ${(error as Error).message}`];
        }
      }),
    )
  ).flat();
  if (options.lb && problems.length === 0) {
    try {
      const servers = await options.lb.servers();
      const missing = sessions.filter((session) => !servers.includes(session.name)).map((session) => session.name);
      if (missing.length > 0) problems.push(`${options.lb.label} has no server named ${missing.join(", ")} (it has ${servers.join(", ") || "none"})`);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new SargeError(`not every host answers: nothing was pushed`, { detail: problems.join("\n") });
  }
}

/**
 * Each host's deploy lock. First every lock at once, none waiting: when all
 * are free, as they usually are, that costs one round trip instead of one
 * per host. When any is busy the ones taken are let go and they are taken in
 * sorted order, each waiting, so that two pushes over overlapping hosts never
 * hold one each and wait for the other.
 */
async function lockAll(sessions: HostSession[], pushId: string, options: FleetPushOptions): Promise<Map<HostSession, HeldLock>> {
  const sorted = [...sessions].sort((a, b) => compareText(a.label, b.label));
  const env = { SARGE_PUSH_ID: pushId };
  for (const session of sorted) options.progress.start(session.label, "lock");
  const tries = await Promise.allSettled(sorted.map((session) => session.hold(0, env)));
  const taken = tries.flatMap((attempt) => (attempt.status === "fulfilled" ? [attempt.value] : []));
  if (taken.length === sorted.length) {
    for (const session of sorted) options.progress.finish(session.label, "ok");
    return new Map(sorted.map((session, index) => [session, taken[index]!]));
  }
  for (const held of taken.reverse()) await held.release();
  const locks = new Map<HostSession, HeldLock>();
  for (const session of sorted) {
    try {
      locks.set(session, await session.hold(options.waitLockSeconds, env));
      options.progress.finish(session.label, "ok");
    } catch (error) {
      options.progress.finish(session.label, "failed", (error as Error).message);
      for (const held of [...locks.values()].reverse()) await held.release();
      throw new SargeError(`could not lock every host: nothing was pushed`, { detail: (error as Error).message });
    }
  }
  return locks;
}

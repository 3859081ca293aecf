import type { HeldRequest } from "../release/hold-protocol.js";
import { lastWords, type HeldLock, type HostSession, type RemoteResult } from "./session.js";

/**
 * The sarge commands a fleet push runs on one host (docs/fleet.md), each a
 * step that either returns what it learnt or throws HostStepError with what
 * the host said.
 */
export class HostStepError extends Error {}

/** An instance a host served before the push: a rollback goes back to exactly this one, never to "the previous". */
export interface ActiveInstance {
  proc: string;
  id: string;
  release: number;
  commit: string | null;
}

export interface StagedRelease {
  release: number;
  commit: string | null;
}

type Env = Record<string, string>;

async function sarge(session: HostSession, args: string[], options: { input?: Buffer; env?: Env } = {}): Promise<RemoteResult> {
  return succeeded(await session.sarge(args, options));
}

/** `request` run by the host's `sarge hold` when it can (no sarge to start), else as the command `args`. */
async function held(session: HostSession, lock: HeldLock, request: HeldRequest, args: string[], env: Env): Promise<RemoteResult> {
  return lock.run ? succeeded(await lock.run(request)) : sarge(session, args, { env });
}

function succeeded(result: RemoteResult): RemoteResult {
  if (result.code !== 0) throw new HostStepError(lastWords(result));
  return result;
}

function json<T>(result: RemoteResult, what: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new HostStepError(`${what} did not print JSON: ${result.stdout.slice(0, 200)}`);
  }
}

/** The version check of a host: sarge runs there and its supervisor answers. */
export async function checkHost(session: HostSession): Promise<void> {
  await sarge(session, ["status", "--json"]);
}

/** The active instances of `procs` on the host. */
export async function activeInstances(session: HostSession, lock: HeldLock, procs: string[], env: Env): Promise<ActiveInstance[]> {
  const instances = json<Array<ActiveInstance & { state: string }>>(await held(session, lock, { command: "list" }, ["list", "--json"], env), "sarge list --json");
  return instances
    .filter((instance) => instance.state === "active" && procs.includes(instance.proc))
    .map(({ proc, id, release, commit }) => ({ proc, id, release, commit }));
}

export async function stage(session: HostSession, archive: Buffer, procs: string[], env: Env): Promise<StagedRelease> {
  const staged = json<StagedRelease>(await sarge(session, ["deploy", "--stage", "-", ...procs, "--json"], { input: archive, env }), "sarge deploy --stage");
  return { release: staged.release, commit: staged.commit };
}

/**
 * Resolves once the host's switch is done (its verification may start), with
 * the activation's end (retire the old instances, record): a rollback of the
 * host waits for it. A host that cannot say `switched` ends its activation first.
 */
export async function activate(session: HostSession, lock: HeldLock, release: number, env: Env): Promise<{ finished: Promise<void> }> {
  if (!lock.run) {
    await sarge(session, ["activate", String(release), "--json"], { env });
    return { finished: Promise.resolve() };
  }
  const activation = heldActivation(lock.run, { command: "activate", release, switched: true });
  await activation.switched();
  return { finished: activation.finished };
}

/** An activation that does its pre-switch work (recovery check, readiness again) now and switches on go(). */
export interface PreparedActivation {
  /** Switch now; as activate(). */
  go(): Promise<{ finished: Promise<void> }>;
  /** Cancel it before its switch (the staged release stays staged); resolves once the activation has ended. */
  abort(): Promise<void>;
}

/** Null when the host's hold cannot wait before a switch (older): activate() it in its turn. */
export function prepareActivation(lock: HeldLock, release: number): PreparedActivation | null {
  const { run, tell } = lock;
  if (!run || !tell) return null;
  const activation = heldActivation(run, { command: "activate", release, switched: true, prepare: true });
  // an aborted one's failure ("cancelled") is expected, and awaited only by abort()
  void activation.finished.catch(() => undefined);
  return {
    go: async () => {
      tell("go");
      await activation.switched();
      return { finished: activation.finished };
    },
    abort: async () => {
      tell("abort");
      await activation.finished.catch(() => undefined);
    },
  };
}

/**
 * An activate request run by the host's hold: `switched()` resolves once its
 * switch is done, or with its end when it ends first (a failure rejects);
 * `finished` when it has ended.
 */
function heldActivation(run: NonNullable<HeldLock["run"]>, request: HeldRequest): { switched(): Promise<void>; finished: Promise<void> } {
  let said: () => void = () => undefined;
  const switchedNow = new Promise<void>((resolve) => (said = resolve));
  const finished = run(request, { switched: () => said() }).then((result) => void succeeded(result));
  return { switched: () => Promise.race([switchedNow, finished]), finished };
}

export async function discard(session: HostSession, release: number, env: Env): Promise<void> {
  await sarge(session, ["discard", String(release)], { env });
}

/** Probes a default verification needs in a row: the switched release answers through the stable address, not once by chance. */
export const VERIFY_PASSES = 3;

/** Through the host's stable ports (sarge verify), for `seconds`, or (null) until each passes VERIFY_PASSES probes. */
export async function verify(session: HostSession, lock: HeldLock, procs: string[], seconds: number | null, env: Env): Promise<void> {
  const until = seconds === null ? ["--passes", String(VERIFY_PASSES)] : ["--for", String(seconds)];
  const request: HeldRequest = { command: "verify", procs, forMs: (seconds ?? 0) * 1000, passes: seconds === null ? VERIFY_PASSES : 1 };
  await held(session, lock, request, ["verify", ...procs, ...until], env);
}

/** Each process type back to the exact instance it ran before. */
export async function switchBack(session: HostSession, before: ActiveInstance[], env: Env): Promise<void> {
  for (const instance of before) await sarge(session, ["rollback", instance.proc, "--to", instance.id, "--json"], { env });
}

export function describeRelease(release: number | null, commit: string | null): string {
  return release === null ? "nothing" : `release ${release}${commit ? ` (${commit.slice(0, 12)})` : ""}`;
}

/**
 * One host of a fleet push as the orchestrator (fleet.ts) sees it: sarge
 * commands run in its home, and its deploy lock held. ssh-session.ts is the
 * real one; unit tests drive the orchestrator with fakes.
 */
import type { HeldRequest } from "../release/hold-protocol.js";

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HeldLock {
  /** Commands run with SARGE_LOCK_TOKEN=<token> use this lock instead of waiting for it. */
  token: string;
  /**
   * Runs a request in the process that holds the lock (no sarge started for it), its answer as the command's; null when that sarge cannot (older): run the command.
   * An activate request with `switched: true` calls `switched` once the host's switch is done (a hold that cannot never does) and resolves when the activation ends;
   * with `prepare: true`, the activation waits before its switch for `tell("go")`.
   */
  run: ((request: HeldRequest, told?: { switched?(result: RemoteResult): void }) => Promise<RemoteResult>) | null;
  /** Present when the hold's activation can wait before its switch (`prepare`): sends it `go` or `abort`. */
  tell?(word: "go" | "abort"): void;
  /**
   * True once the hold's session ended before release(): the hold may still
   * finish an activation under its lock, so the token must not be used (a
   * command without it waits for the lock instead of acting beside it).
   */
  lost?(): boolean;
  release(): Promise<void>;
}

export interface HostSession {
  /** The host's name (a load balancer's server is named after it). */
  readonly name: string;
  /** The target as written: user@host[:port]:/home. */
  readonly label: string;
  /** `<home>/bin/sarge <args>` on the host, with `env` set and `input` on its stdin. */
  sarge(args: string[], options?: { input?: Buffer; env?: Record<string, string> }): Promise<RemoteResult>;
  /** `sarge hold`: take the home's deploy lock, waiting up to `waitSeconds`, and keep it until release(). */
  hold(waitSeconds: number, env?: Record<string, string>): Promise<HeldLock>;
}

/** The last lines of what a failed remote command said, for the report. */
export function lastWords(result: RemoteResult): string {
  const lines = `${result.stderr}\n${result.stdout}`.split("\n").map((line) => line.trim()).filter(Boolean);
  const said = lines.filter((line) => line.startsWith("sarge: ")).at(-1) ?? lines.at(-1);
  return said?.replace(/^sarge: /, "") ?? `exit ${result.code}`;
}

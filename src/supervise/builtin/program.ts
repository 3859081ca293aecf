import { currentBootId, recordedThisBoot } from "../../util/boot-id.js";
import { SargeError } from "../../util/errors.js";
import { DEFAULT_LOG_LIMITS, type LogLimits } from "../rotating-log.js";
import type { ProgramSpec, ProgramState, ProgramStatus } from "../supervisor.js";
import { adopt, launch, type Run } from "./launch.js";
import { terminateGroup } from "../../util/process-group.js";
import { identify } from "./process-identity.js";
import type { ProgramRecord } from "./store.js";

/** Up this long after a start counts as running (supervisord's startsecs). */
const START_MS = 1_000;
/**
 * Restart delays: none after a run that had been up for STABLE_MS (like
 * supervisord's autorestart: HAProxy or an app that dies after running for a
 * while is back at once); after short runs 1 s, doubling, capped at a
 * minute; never given up.
 */
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
/** A process that ran this long before exiting starts the backoff over. */
const STABLE_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export interface ProgramHooks {
  /** Something worth persisting changed. */
  changed(): void;
  log(line: string): void;
  warn(line: string): void;
}

/**
 * One supervised program. Every transition that waits (start, stop, cleaning
 * up after an exit, restart, recovery) runs through `exclusive`, one at a
 * time, so a stop never races a restart of the same program.
 */
export class Program {
  readonly spec: ProgramSpec;
  wanted: boolean;
  state: ProgramState = "stopped";
  private run: Run | null = null;
  private restarts: number;
  private lastExit: string | null;
  /** Consecutive short-lived runs, for the backoff delay. */
  private failures = 0;
  /** The pending starting→running or backoff→restart timer. */
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  /** Set by shutdown: nothing may be started any more. */
  private closed = false;
  /**
   * The process group that may still have members: the current run's, or a
   * dead run's until its leftovers are killed, or the one recorded by the
   * previous daemon until recover() dealt with it. Persisted, so that no
   * daemon death can orphan it.
   */
  private group: Omit<Run, "exited"> | null;

  constructor(
    record: ProgramRecord,
    private readonly hooks: ProgramHooks,
  ) {
    this.spec = record.spec;
    this.wanted = record.wanted;
    this.restarts = record.restarts;
    this.lastExit = record.lastExit;
    const { pid, startTime } = record;
    this.group = pid !== null && startTime !== null ? { pid, startTime, startedAt: record.startedAt ?? new Date().toISOString() } : null;
    if (this.group && !recordedThisBoot(record.bootId)) {
      // Every process of that boot is gone; whatever has the pid now is not ours to adopt or signal.
      hooks.log(`${this.spec.name}: pid ${pid} was recorded before a reboot; that process is gone, the pid is left alone`);
      this.group = null;
    }
  }

  get pid(): number | null {
    return this.run?.pid ?? null;
  }

  get logLimits(): LogLimits {
    return this.spec.logs ?? DEFAULT_LOG_LIMITS;
  }

  record(): ProgramRecord {
    return {
      spec: this.spec,
      wanted: this.wanted,
      pid: this.group?.pid ?? null,
      startTime: this.group?.startTime ?? null,
      bootId: this.group ? currentBootId() : null,
      startedAt: this.group?.startedAt ?? null,
      restarts: this.restarts,
      lastExit: this.lastExit,
    };
  }

  status(): ProgramStatus {
    return {
      name: this.spec.name,
      state: this.state,
      wanted: this.wanted,
      pid: this.run?.pid ?? null,
      startedAt: this.run?.startedAt ?? null,
      restarts: this.restarts,
      lastExit: this.lastExit,
      logFile: this.spec.logFile,
    };
  }

  /**
   * Makes it wanted and starts it; nothing to do if it runs already. One
   * waiting in backoff starts now: an operator asking expects it to. A failed
   * spawn leaves it stopped.
   */
  start(): Promise<void> {
    return this.exclusive(async () => {
      if (this.closed) throw new SargeError("the supervisor is shutting down");
      if (this.wanted && this.state !== "stopped" && this.state !== "backoff") return;
      clearTimeout(this.timer);
      this.wanted = true;
      this.failures = 0;
      try {
        await this.spawn();
      } catch (error) {
        this.wanted = false;
        this.hooks.changed();
        throw error;
      }
    });
  }

  /** Graceful stop of the whole group; resolves when none of it remains. */
  stop(): Promise<void> {
    return this.exclusive(() => this.halt(false));
  }

  /** Stop for the daemon's own shutdown: still wanted, so the next daemon starts it again. */
  shutdown(): Promise<void> {
    this.closed = true;
    return this.exclusive(() => this.halt(true));
  }

  /**
   * Takes the program back after a daemon restart: a recorded process still
   * alive is adopted untouched (HAProxy and the live app must not blip); a
   * dead one's leftover group is killed and, if wanted, it is started again.
   */
  recover(): Promise<void> {
    return this.exclusive(async () => {
      const group = this.group;
      if (group && this.wanted && !this.closed) {
        if (identify(group.pid, group.startTime) === "alive") {
          this.hooks.log(`adopted ${this.spec.name} (pid ${group.pid})`);
          this.watch(adopt(group.pid, group.startTime, group.startedAt), "running");
          return;
        }
      }
      // Leftovers of a dead leader, or a process the previous daemon died while stopping.
      await this.killGroup();
      if (this.wanted && !this.closed) await this.spawnOrBackOff();
    });
  }

  private get stopSignal(): NodeJS.Signals {
    return this.spec.stopSignal ?? "SIGTERM";
  }

  private get stopTimeoutMs(): number {
    return this.spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  }

  private async halt(keepWanted: boolean): Promise<void> {
    clearTimeout(this.timer);
    if (!keepWanted) this.wanted = false;
    const run = this.run;
    if (this.group) {
      // Persisted before signalling: a daemon killed now finishes this stop when it comes back.
      this.state = "stopping";
      this.hooks.changed();
      this.hooks.log(`stopping ${this.spec.name} (pid ${this.group.pid}, ${this.stopSignal} to its ${this.spec.stopTo === "main" ? "main process" : "process group"})`);
      await this.killGroup();
      if (run) await run.exited;
      this.hooks.log(`stopped ${this.spec.name} (${this.lastExit})`);
    }
    this.state = "stopped";
    this.hooks.changed();
  }

  /**
   * Stops what remains of the group. Skipped when the leader's pid now belongs
   * to another process: the kernel does not reuse a pid still naming a group,
   * so the old group is already empty, and that id is someone else's.
   */
  private async killGroup(): Promise<void> {
    const group = this.group;
    if (!group) return;
    if (identify(group.pid, group.startTime) !== "reused") await terminateGroup(group.pid, this.stopSignal, this.stopTimeoutMs, undefined, this.spec.stopTo);
    this.group = null;
    this.hooks.changed();
  }

  private async spawn(): Promise<void> {
    const run = await launch(this.spec);
    this.hooks.log(`started ${this.spec.name} (pid ${run.pid})`);
    this.watch(run, "starting");
  }

  private watch(run: Run, state: "starting" | "running"): void {
    this.run = run;
    this.group = { pid: run.pid, startTime: run.startTime, startedAt: run.startedAt };
    this.state = state;
    this.hooks.changed();
    if (state === "starting") {
      this.timer = setTimeout(() => {
        if (this.run !== run || this.state !== "starting") return;
        this.state = "running";
        this.hooks.changed();
      }, START_MS);
    }
    void run.exited.then((how) => this.exited(run, how));
  }

  private exited(run: Run, how: string): void {
    if (this.run !== run) return;
    this.run = null;
    this.lastExit = how;
    clearTimeout(this.timer);
    if (this.state === "stopping") return this.hooks.changed(); // halt() is waiting for this
    const stable = Date.now() - Date.parse(run.startedAt) >= STABLE_MS;
    if (stable) this.failures = 0;
    this.state = "backoff";
    this.hooks.changed();
    this.hooks.warn(`${this.spec.name} exited (${how})`);
    this.exclusive(async () => {
      // Children it left behind may hold its port: the next start needs it free.
      await this.killGroup();
      this.scheduleRestart(stable);
    }).catch((error: unknown) => this.hooks.warn(`cleaning up after ${this.spec.name} failed: ${message(error)}`));
  }

  private scheduleRestart(afterStableRun = false): void {
    if (this.state !== "backoff" || this.closed) return;
    const delay = afterStableRun ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.failures);
    if (!afterStableRun) this.failures++;
    this.hooks.log(`restarting ${this.spec.name} in ${delay / 1000}s`);
    this.timer = setTimeout(() => {
      this.exclusive(async () => {
        if (this.state !== "backoff" || this.closed) return;
        this.restarts++;
        await this.spawnOrBackOff();
      }).catch((error: unknown) => this.hooks.warn(`restarting ${this.spec.name} failed: ${message(error)}`));
    }, delay);
  }

  /** A program that cannot even be spawned (its folder is gone...) keeps being retried, like one that crashes. */
  private async spawnOrBackOff(): Promise<void> {
    try {
      await this.spawn();
    } catch (error) {
      this.lastExit = `spawn failed: ${message(error)}`;
      this.state = "backoff";
      this.hooks.changed();
      this.hooks.warn(`${this.spec.name}: ${this.lastExit}`);
      this.scheduleRestart();
    }
  }

  private exclusive(task: () => Promise<void>): Promise<void> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

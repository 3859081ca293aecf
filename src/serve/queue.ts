import { EventEmitter } from "node:events";
import { appendFileSync, createReadStream, existsSync, mkdirSync, rmSync, type FSWatcher } from "node:fs";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { loadConfig } from "../home/config.js";
import { readDeployFreeze, describeFreeze } from "../home/deploy-freeze.js";
import type { HomePaths } from "../home/paths.js";
import { assertProcessType } from "../instance/id.js";
import { readState } from "../instance/state.js";
import { readHistory, type HistoryEntry } from "../release/history.js";
import { readHolder } from "../release/lock.js";
import { claimReleaseNumber } from "../release/release-number.js";
import { SargeError } from "../util/errors.js";
import { isSameProcessAlive } from "../util/process-alive.js";
import { fileSize } from "../util/file-bytes.js";
import { watchInFolder } from "../util/watch-file.js";
import { HttpError } from "./http-error.js";
import { releaseLogPath } from "./log-stream.js";
import { lastSargeError, startDeployChild, type DeployChild } from "./queue/child.js";
import { finishedStates, loadRecords, newRecord, saveRecord, type QueueRecord, type QueueState } from "./queue/record.js";
import { spoolArchive, spoolPath } from "./queue/spool.js";
import type { Wanted } from "./webhook/mirror.js";
import { refArchive } from "./webhook/source.js";

interface SubmitBase {
  kind: "deploy";
  /** null: every process type with an active instance, or web on a home with none. */
  procs: string[] | null;
  who: string;
  /** Through the deploy lock (an admin's choice). */
  force?: boolean;
  source?: "api" | "webhook";
}

/**
 * What to deploy: a request body, read at once into the deploy or, if it must
 * wait, into a spool file; or a ref, fetched from webhook.repository when the
 * release runs (kept in its record, so a waiting one survives a restart).
 */
export type SubmitRequest = SubmitBase & ({ body: Readable } | { ref: Wanted });

export interface QueueTimeouts {
  deployMs: number;
  idleMs: number;
}

/**
 * The server's releases, one at a time per home (docs/server.md, "Queue"):
 * at most one waits, and a newer request supersedes it. Each runs as a child
 * `sarge deploy`, so a deploy over ssh shares the same deploy lock; while one
 * holds it the queue waits and shows it as running. Records and each
 * release's output live under var/, and a restarted server picks up where it was.
 */
export class ReleaseQueue extends EventEmitter {
  /** `child` is null while a ref is fetched (stopped then by `stopRequested`), and for a deploy a killed server left running. */
  private running: { record: QueueRecord; child: DeployChild | null; stopRequested?: boolean } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lockWatcher: FSWatcher | null = null;
  private closed = false;

  constructor(
    private readonly paths: HomePaths,
    private readonly timeouts: () => QueueTimeouts = () => serveTimeouts(paths),
  ) {
    super();
  }

  /**
   * Reconcile what a previous server left: a running deploy still alive is
   * followed, a dead one finished from history, one stopped while its source
   * was fetched (no deploy began) waits again; then go on.
   */
  start(): void {
    const records = loadRecords(this.paths);
    // the queued ones that cannot run end first, so a release waiting again is superseded only by one that will run
    for (const record of records) {
      if (record.state === "queued" && !record.ref && !this.hasSpool(record)) this.finish(record, "failed", "the server restarted before it ran, and its archive was not kept: submit it again");
    }
    for (const record of records) {
      if (record.state !== "running") continue;
      if (record.pid !== null && isSameProcessAlive(record.pid, record.pidStart)) this.follow(record);
      else if (record.pid === null && record.ref) this.waitAgain(record);
      else this.finishFromHistory(record, "interrupted: the server stopped while it ran; sarge's recovery undid it");
    }
    this.timer = setInterval(() => this.pump(), 500);
    this.timer.unref();
    // a release waiting behind a sarge deploy run over ssh starts as soon as that one lets go of the lock, not at the next look
    this.lockWatcher = watchInFolder(this.paths.deployLock, () => this.pump());
    this.pump();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.lockWatcher?.close();
  }

  async submit(request: SubmitRequest): Promise<{ id: number; state: QueueState }> {
    const procs = request.procs ?? defaultProcs(this.paths);
    procs.forEach(assertProcessType);
    const force = request.force ?? false;
    const freeze = readDeployFreeze(this.paths);
    if (freeze && !force) throw new HttpError(423, `deploys are ${describeFreeze(freeze)}; an admin may force it (?force=1), or sarge unlock lifts it`);
    const id = claimReleaseNumber(this.paths, readState(this.paths).lastRelease);
    const record = newRecord({ id, procs, who: request.who, source: request.source ?? "api", force, ref: "ref" in request ? request.ref : null });
    if (this.idle()) {
      saveRecord(this.paths, record);
      this.emit("release-queued", { ...record });
      this.run(record, "body" in request ? request.body : null);
      return { id, state: record.state };
    }
    if ("body" in request) await spoolArchive(this.paths, id, request.body, archiveCap(this.paths));
    const waiting = this.waiting();
    if (waiting && waiting.id > id) {
      this.finish(record, "superseded", null, waiting.id);
      return { id, state: record.state };
    }
    saveRecord(this.paths, record);
    this.emit("release-queued", { ...record });
    if (waiting) this.finish(waiting, "superseded", null, id);
    this.pump();
    return { id, state: record.state };
  }

  get(id: number): QueueRecord | undefined {
    return this.list().find((record) => record.id === id);
  }

  /** Every record, newest first, with a release `sarge deploy` runs over ssh shown as running. */
  list(): QueueRecord[] {
    const records = loadRecords(this.paths);
    const outside = this.outsideRelease();
    if (outside && !records.some((record) => record.id === outside.id)) records.push(outside);
    return records.sort((a, b) => b.id - a.id);
  }

  /** A waiting release is dropped at once; a running one gets SIGTERM while it has not begun its switch. */
  cancel(id: number, who: string): QueueRecord {
    const record = this.get(id);
    if (!record) throw new HttpError(404, `no release ${id} in the queue (GET /api/v1/queue lists it)`);
    if (finishedStates.includes(record.state)) throw new HttpError(409, `release ${id} has already ended (${record.state})`);
    if (record.state === "queued") return this.finish(record, "cancelled", `cancelled by ${who} while it waited`);
    if (record.source === "cli" || this.running?.record.id !== id) throw new HttpError(409, `release ${id} was started by sarge deploy over ssh: stop it there`);
    if (readState(this.paths).pendingRelease?.release === id && readState(this.paths).pendingRelease?.switchingSince) {
      throw new HttpError(409, `release ${id} has switched; use rollback`);
    }
    this.signalRunning("SIGTERM");
    return this.get(id) ?? record;
  }

  private idle(): boolean {
    return this.running === null && this.waiting() === undefined && this.outsideRelease() === null && !this.lockHeldOutside();
  }

  private waiting(): QueueRecord | undefined {
    return loadRecords(this.paths).find((record) => record.state === "queued");
  }

  private hasSpool(record: QueueRecord): boolean {
    return existsSync(spoolPath(this.paths, record.id));
  }

  /** Start the waiting release once nothing runs and no one else holds the deploy lock. */
  private pump(): void {
    if (this.closed || this.running || this.lockHeldOutside()) return;
    const next = this.waiting();
    if (!next) return;
    this.run(next, next.ref ? null : createReadStream(spoolPath(this.paths, next.id)));
  }

  /** Run `record` from its body, or from its ref once fetched: a fetch that fails fails the release with git's message, and no deploy starts. */
  private run(record: QueueRecord, body: Readable | null): void {
    if (body) return this.startChild(record, body);
    Object.assign(record, { state: "running", startedAt: new Date().toISOString() });
    saveRecord(this.paths, record);
    this.running = { record, child: null };
    this.emit("release-started", { ...record });
    const logFile = releaseLogPath(this.paths, record.id);
    void this.fetchRef(record.ref!).then(
      (archive) => {
        if (!this.running?.stopRequested) return this.startChild(record, archive);
        archive.destroy();
        this.fetchCancelled();
      },
      (error: Error) => {
        if (this.running?.stopRequested) return this.fetchCancelled();
        appendToLog(logFile, `sarge: ${error.message}\n`);
        this.ended(record, "failed", error.message);
      },
    );
  }

  /** The fetch of a release cancelled meanwhile (recorded at the cancel) is over: the next may start. */
  private fetchCancelled(): void {
    this.running = null;
    this.pump();
  }

  private async fetchRef(wanted: Wanted): Promise<Readable> {
    const { repository } = loadConfig(this.paths).webhook;
    if (repository === null) throw new SargeError(`webhook.repository is no longer set in ${this.paths.config}: nothing to fetch ${wanted.ref} from`);
    return refArchive(this.paths, repository, wanted);
  }

  private startChild(record: QueueRecord, archive: Readable): void {
    const logFile = releaseLogPath(this.paths, record.id);
    const child = startDeployChild({ paths: this.paths, id: record.id, procs: record.procs, who: record.who, force: record.force, archive, logFile });
    Object.assign(record, { state: "running", startedAt: new Date().toISOString(), pid: child.pid, pidStart: child.pidStart });
    saveRecord(this.paths, record);
    this.running = { record, child };
    this.emit("release-started", { ...record });
    const stopWatching = this.watchTimeouts(record, logFile);
    void child.exited.then((code) => {
      stopWatching();
      rmSync(spoolPath(this.paths, record.id), { force: true });
      const timedOut = this.timedOut.get(record.id);
      this.timedOut.delete(record.id);
      const fromCode: QueueState = code === 0 ? "succeeded" : code === 5 ? "cancelled" : "failed";
      const error = code === 0 ? null : (timedOut ?? lastSargeError(logFile) ?? `sarge deploy exited with code ${code ?? "null (killed)"}`);
      this.ended(record, timedOut ? "failed" : fromCode, error);
    });
  }

  /** The running release is over: record it and start the next. */
  private ended(record: QueueRecord, state: QueueState, error: string | null): void {
    this.running = null;
    this.finish(record, state, error);
    this.pump();
  }

  private readonly timedOut = new Map<number, string>();

  /** serve.deploy_timeout and serve.idle_timeout: a stuck deploy is cancelled (SIGTERM), then killed if it will not stop. */
  private watchTimeouts(record: QueueRecord, logFile: string): () => void {
    const started = Date.now();
    let lastSize = 0;
    let lastOutput = Date.now();
    const check = setInterval(() => {
      // the log grows while the deploy says anything: the idle timeout
      const size = fileSize(logFile);
      if (size !== lastSize) [lastSize, lastOutput] = [size, Date.now()];
      const { deployMs, idleMs } = this.timeouts();
      const reason =
        Date.now() - started > deployMs
          ? `timed out after ${Math.round(deployMs / 1000)} s (serve.deploy_timeout)`
          : Date.now() - lastOutput > idleMs
            ? `timed out: no output for ${Math.round(idleMs / 1000)} s (serve.idle_timeout)`
            : null;
      if (reason === null || this.timedOut.has(record.id)) return;
      this.timedOut.set(record.id, reason);
      this.signalRunning("SIGTERM");
      setTimeout(() => this.running?.record.id === record.id && this.signalRunning("SIGKILL"), 30_000).unref();
    }, 1000);
    check.unref();
    return () => clearInterval(check);
  }

  private signalRunning(signal: NodeJS.Signals): void {
    const running = this.running;
    if (!running) return;
    if (running.child) running.child.signal(signal);
    else if (running.record.pid) process.kill(running.record.pid, signal);
    else if (!running.stopRequested) {
      // recorded now, so a server killed before the fetch ends does not run it after its restart
      running.stopRequested = true;
      this.finish(running.record, "cancelled", "cancelled while its source was fetched");
    }
  }

  /** A release by ref whose fetch a killed server cut short: queued again, unless a newer one waits (which supersedes it, as at submit). */
  private waitAgain(record: QueueRecord): void {
    const newer = this.waiting();
    if (newer && newer.id > record.id) return void this.finish(record, "superseded", null, newer.id);
    Object.assign(record, { state: "queued", startedAt: null });
    saveRecord(this.paths, record);
  }

  /** A deploy a killed server left running: watch its pid, then take its outcome from history. */
  private follow(record: QueueRecord): void {
    this.running = { record, child: null };
    const poll = setInterval(() => {
      if (isSameProcessAlive(record.pid!, record.pidStart)) return;
      clearInterval(poll);
      this.running = null;
      this.finishFromHistory(record, "interrupted: the server stopped while it ran");
      this.pump();
    }, 200);
  }

  private finishFromHistory(record: QueueRecord, otherwise: string): void {
    const entry = readHistory(this.paths).find((line) => line.release === record.id);
    if (entry) this.finish(record, stateOf(entry), entry.error ?? null);
    else this.finish(record, "failed", lastSargeError(releaseLogPath(this.paths, record.id)) ?? otherwise);
  }

  private finish(record: QueueRecord, state: QueueState, error: string | null, supersededBy: number | null = null): QueueRecord {
    Object.assign(record, { state, error, supersededBy, finishedAt: new Date().toISOString() });
    saveRecord(this.paths, record);
    if (state !== "running") rmSync(spoolPath(this.paths, record.id), { force: true });
    this.emit("release-finished", { ...record });
    return record;
  }

  /** A release `sarge deploy` (or rollback, config) runs outside the server, from the deploy lock and state. */
  private outsideRelease(): QueueRecord | null {
    if (!this.lockHeldOutside()) return null;
    const pending = readState(this.paths).pendingRelease;
    if (!pending) return null;
    return newRecord({ id: pending.release, state: "running", procs: pending.procs, who: pending.user, source: "cli", queuedAt: pending.startedAt, startedAt: pending.startedAt });
  }

  private lockHeldOutside(): boolean {
    const holder = readHolder(this.paths.deployLock);
    if (!holder || holder.pid === this.running?.record.pid) return false;
    return isSameProcessAlive(holder.pid, holder.startTime);
  }
}

function stateOf(entry: HistoryEntry): QueueState {
  return entry.outcome === "success" ? "succeeded" : entry.outcome === "cancelled" ? "cancelled" : "failed";
}

/** Without ?procs: every type with an active instance, or web on a home with none. */
function defaultProcs(paths: HomePaths): string[] {
  const active = [...new Set(Object.values(readState(paths).instances).filter((instance) => instance.state === "active").map((instance) => instance.proc))];
  return active.length > 0 ? active.sort() : ["web"];
}

/** A spooled body may be as large as the archive caps allow, plus a tar header per entry. */
function archiveCap(paths: HomePaths): number {
  const { archive } = loadConfig(paths);
  return archive.maxBytes + (archive.maxEntries + 2) * 1024;
}

function serveTimeouts(paths: HomePaths): QueueTimeouts {
  const serve = loadConfig(paths).serve;
  return { deployMs: serve?.deployTimeoutMs ?? 30 * 60_000, idleMs: serve?.idleTimeoutMs ?? 10 * 60_000 };
}

/** A line of the server's own in a release's log, beside the deploy's. */
function appendToLog(logFile: string, text: string): void {
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
  appendFileSync(logFile, text, { mode: 0o600 });
}

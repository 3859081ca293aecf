import { statSync } from "node:fs";
import { deployFreezePath } from "../home/deploy-freeze.js";
import { openHome } from "../home/open.js";
import type { HomePaths } from "../home/paths.js";
import { procStatus, recordedStatus, type ProcStatusView } from "../instance/views.js";
import { SupervisorNotRunningError } from "../util/errors.js";
import { withHomeContext } from "./home.js";

declare module "fastify" {
  interface FastifyInstance {
    homeStatus: StatusCache;
  }
}

export interface HomeStatus {
  rows: ProcStatusView[];
  /** Why the rows are what state.json says rather than probed (the supervisor is not running), else null. */
  recorded: string | null;
  checkedAt: string;
}

export interface StatusFreshness {
  /** An answer is never older than this (from the start of the look that made it). */
  maxAgeMs: number;
  /** While someone asked within this, the next look runs in the background once the last is half `maxAgeMs` old. */
  keepWarmMs: number;
}

/** docs/server.md, "Status freshness": at most 2 s old, and looked at again at once when a release, the lock or the config moved. */
export const defaultFreshness: StatusFreshness = { maxAgeMs: 2_000, keepWarmMs: 30_000 };

interface Look {
  /** Looks are numbered in the order they begin: a late answer never replaces a newer one. */
  seq: number;
  startedAt: number;
  fingerprint: string;
  status: Promise<HomeStatus>;
}

/**
 * `sarge status` for the server: GET /api/v1/status and the dashboard's home
 * page answer from one shared look at the processes instead of probing per
 * request (a look scans /proc for who holds each stable port: tens of ms at
 * 50 instances, more on a loaded machine). While clients keep asking, the
 * next look runs in the background, so a request waits only when var/state.json,
 * the deploy lock or etc/sarge.yaml changed since the last look, or none is recent.
 */
export class StatusCache {
  private latest: Look | null = null;
  private inFlight: Look | null = null;
  private askedAt = 0;
  private looks = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly paths: HomePaths,
    private readonly freshness: StatusFreshness = defaultFreshness,
    private readonly lookAt: (paths: HomePaths) => Promise<HomeStatus> = lookAtHome,
  ) {}

  get(): Promise<HomeStatus> {
    this.askedAt = Date.now();
    this.keepWarm();
    const fingerprint = this.fingerprint();
    const latest = this.latest;
    if (latest && latest.fingerprint === fingerprint && Date.now() - latest.startedAt < this.freshness.maxAgeMs) return latest.status;
    return this.look(fingerprint).status;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at a time: a request joins the look under way unless something moved since it began. */
  private look(fingerprint: string): Look {
    if (this.inFlight && this.inFlight.fingerprint === fingerprint) return this.inFlight;
    const look: Look = { seq: ++this.looks, startedAt: Date.now(), fingerprint, status: this.lookAt(this.paths) };
    this.inFlight = look;
    look.status.then(
      () => {
        if (!this.latest || this.latest.seq < look.seq) this.latest = look;
      },
      () => undefined,
    );
    void look.status.finally(() => {
      if (this.inFlight === look) this.inFlight = null;
    }).catch(() => undefined);
    return look;
  }

  private keepWarm(): void {
    if (this.timer) return;
    const every = this.freshness.maxAgeMs / 2;
    this.timer = setInterval(() => {
      if (Date.now() - this.askedAt > this.freshness.keepWarmMs) return this.close();
      if (this.inFlight || (this.latest && Date.now() - this.latest.startedAt < every)) return;
      this.look(this.fingerprint());
    }, every / 2);
    this.timer.unref();
  }

  private fingerprint(): string {
    return [this.paths.state, deployFreezePath(this.paths), this.paths.config].map(stamp).join("|");
  }
}

async function lookAtHome(paths: HomePaths): Promise<HomeStatus> {
  const checkedAt = new Date().toISOString();
  try {
    return { rows: await withHomeContext(paths, procStatus), recorded: null, checkedAt };
  } catch (error) {
    if (!(error instanceof SupervisorNotRunningError)) throw error;
    return { rows: recordedStatus(openHome(paths, "serve")), recorded: `${error.message}: this is what var/state.json says`, checkedAt };
  }
}

/** Changes whenever the file is rewritten (atomic writes give it a new inode), appears or goes. */
function stamp(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat ? `${stat.ino}:${stat.mtimeMs}:${stat.size}` : "-";
}

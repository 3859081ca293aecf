import type { FastifyInstance } from "fastify";
import { readDeployFreeze } from "../../home/deploy-freeze.js";
import type { ProcStatusView } from "../../instance/views.js";
import { readState, type InstanceRecord } from "../../instance/state.js";
import { readLatestHistory, type HistoryEntry } from "../../release/history.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";

/** One row of the home's "Last releases" table. */
export interface ReleaseRow {
  id: number;
  kind: string;
  who: string;
  commit: string | null;
  state: string;
  startedAt: string;
  durationMs: number | null;
}

export const releasesShown = 20;

export function historyRow(entry: HistoryEntry): ReleaseRow {
  return { id: entry.release, kind: entry.kind, who: entry.user, commit: entry.commit, state: entry.outcome, startedAt: entry.startedAt, durationMs: entry.durationMs };
}

function procRow(status: ProcStatusView, instances: Record<string, InstanceRecord>) {
  const active = status.active === null ? undefined : instances[status.active];
  const health = status.healthy === null ? "unknown" : status.healthy ? "healthy" : "unhealthy";
  return { ...status, health, commit: active?.commit ?? null, activatedAt: active?.activatedAt ?? null };
}

export function homeRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.get("/", { preHandler: pagePermission("read") }, async (request, reply) => {
    const began = performance.now();
    const { rows, recorded, checkedAt } = await app.homeStatus.get();
    const statusDone = performance.now();
    const { instances } = readState(paths);
    const releases = readLatestHistory(paths, releasesShown).reverse().map(historyRow);
    // where a page load's time goes, for the browser's devtools and bench/dashboard.ts
    void reply.header("server-timing", `status;dur=${(statusDone - began).toFixed(1)}, files;dur=${(performance.now() - statusDone).toFixed(1)}`);
    return sendPage(reply, "home", {
      ...pageBase(signedIn(request), "Home"),
      homeName: paths.root,
      lock: readDeployFreeze(paths),
      procs: rows.map((row) => procRow(row, instances)),
      recorded,
      checkedAt,
      releases,
    });
  });
}

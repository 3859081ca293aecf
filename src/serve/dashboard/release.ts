import { existsSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { readState, type State } from "../../instance/state.js";
import { readHistory } from "../../release/history.js";
import { HttpError } from "../http-error.js";
import { readLogPage, releaseLogPath } from "../log-stream.js";
import type { ReleaseQueue } from "../queue.js";
import type { HomePaths } from "../../home/paths.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";
import { runSargeAs } from "./sarge-child.js";

/** What the release page shows of release `id`: finished (history), waiting or running (the queue, or state's pendingRelease for one run over ssh), or unknown. */
function findRelease(paths: HomePaths, state: State, queue: ReleaseQueue, id: number) {
  const entry = readHistory(paths).find((candidate) => candidate.release === id);
  if (entry) return { ...entry, id: entry.release, who: entry.user, state: entry.outcome };
  const record = queue.get(id);
  const pending = state.pendingRelease?.release === id ? state.pendingRelease : undefined;
  if (record) {
    const started = record.startedAt ?? record.queuedAt;
    return { ...record, instances: pending?.instances ?? [], commit: pending?.commit ?? null, startedAt: started, durationMs: null, error: record.error ?? undefined, switching: pending?.switchingSince !== undefined };
  }
  if (pending) return { ...pending, id: pending.release, who: pending.user, state: "running", durationMs: null, error: undefined, source: "cli", switching: pending.switchingSince !== undefined };
  throw new HttpError(404, `no release #${id} in this home's history (the home page lists the last ones)`);
}

/** The release's instances that are kept now, one per process type: what "Roll back to this" makes active again. */
function keptInstances(state: State, instances: string[]) {
  return instances.flatMap((id) => {
    const instance = state.instances[id];
    return instance?.state === "kept" ? [{ id, proc: instance.proc }] : [];
  });
}

function releaseId(text: string): number {
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new HttpError(404, `"${text}" is not a release number`);
  return Number(text);
}

export function releaseRoutes(app: FastifyInstance, queue: ReleaseQueue): void {
  const paths = app.sargeAuth.paths;

  app.get<{ Params: { id: string } }>("/releases/:id", { preHandler: pagePermission("read") }, (request, reply) => {
    const id = releaseId(request.params.id);
    const state = readState(paths);
    const release = findRelease(paths, state, queue, id);
    const base = pageBase(signedIn(request), `Release #${id}`);
    const logFile = releaseLogPath(paths, id);
    // the server keeps the output of the releases it runs; one run over ssh has none
    const log = existsSync(logFile) ? readLogPage(logFile, 0) : null;
    return sendPage(reply, "release", {
      ...base,
      release,
      ...(log ? { logText: log.text, logOffset: log.next, logStream: `/api/v1/releases/${id}/log` } : {}),
      running: release.state === "running",
      // cancel while it waits, or runs here and has not begun its switch (after it: roll back)
      cancellable: base.can.cancel && (release.state === "queued" || (release.state === "running" && "source" in release && release.source !== "cli" && !release.switching)),
      rollbackable: base.can.rollback && release.state === "success" && keptInstances(state, release.instances).length > 0,
    });
  });

  app.post<{ Params: { id: string } }>("/releases/:id/rollback", { preHandler: pagePermission("rollback") }, async (request, reply) => {
    const id = releaseId(request.params.id);
    const state = readState(paths);
    const targets = keptInstances(state, findRelease(paths, state, queue, id).instances);
    if (targets.length === 0) throw new HttpError(409, `release #${id} has no kept instance to go back to (it is active, or was pruned: see keep_releases)`);
    let last = 0;
    for (const target of targets) {
      const result = JSON.parse(await runSargeAs(paths, signedIn(request).name, ["rollback", target.proc, "--to", target.id, "--json"])) as { release: number };
      last = result.release;
    }
    return reply.redirect(`/releases/${last}`, 303);
  });
}

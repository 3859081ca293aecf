import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import type { HomePaths } from "../../home/paths.js";
import { readHistory, type HistoryEntry } from "../../release/history.js";
import { requirePermission } from "../auth.js";
import { HttpError } from "../http-error.js";
import { releaseLogPath, serveLog } from "../log-stream.js";
import { finishedStates, loadRecords } from "../queue/record.js";
import { withSargeVersion } from "../../util/version.js";

const outcomes = ["success", "failed", "cancelled"] as const;

interface ReleaseQuery {
  outcome?: string;
  proc?: string;
  n?: string;
}

/** The history (`sarge history --json`), one release, and the output of a release the server ran. */
export function releaseRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.get<{ Querystring: ReleaseQuery }>("/api/v1/releases", { preHandler: requirePermission("read") }, (request) => {
    const { outcome, proc, n } = request.query;
    if (outcome !== undefined && !(outcomes as readonly string[]).includes(outcome)) throw new HttpError(400, `invalid outcome "${outcome}": use ${outcomes.join(" or ")}`);
    if (n !== undefined && !/^[1-9]\d{0,8}$/.test(n)) throw new HttpError(400, `invalid n "${n}": expected how many of the latest releases, a whole number from 1`);
    const entries = readHistory(paths).filter((entry) => (proc === undefined || entry.procs.includes(proc)) && (outcome === undefined || entry.outcome === outcome));
    return withSargeVersion(n === undefined ? entries : entries.slice(-Number(n)));
  });

  app.get<{ Params: { release: string } }>("/api/v1/releases/:release", { preHandler: requirePermission("read") }, (request) => {
    const release = releaseNumber(request.params.release);
    return withSargeVersion(historyEntry(paths, release) ?? notFound(release));
  });

  app.get<{ Params: { release: string } }>("/api/v1/releases/:release/log", { preHandler: requirePermission("read") }, (request, reply) => {
    const release = releaseNumber(request.params.release);
    const file = releaseLogPath(paths, release);
    // a release the queue holds has a log soon (it waits behind the running one): its stream waits for the first byte
    if (!existsSync(file) && !loadRecords(paths).some((record) => record.id === release)) {
      if (historyEntry(paths, release)) throw new HttpError(404, `release ${release} has no log here: the server keeps the output of the releases it runs, not of those run by sarge deploy over ssh`);
      notFound(release);
    }
    return serveLog(request, reply, { file: () => file, finished: () => releaseOutcome(paths, release), outcomeFile: paths.history });
  });
}

/** A release id in a path: the history's release number. */
export function releaseNumber(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new HttpError(400, `invalid release "${text}": release ids are the numbers GET /api/v1/releases lists`);
  return Number(text);
}

function historyEntry(paths: HomePaths, release: number): HistoryEntry | undefined {
  return readHistory(paths).find((entry) => entry.release === release);
}

/**
 * The final event of a release's log: its history line, once written; else,
 * for a release that ended before sarge deploy took its lock (its fetch or
 * unpack failed), the queue's record of it.
 */
function releaseOutcome(paths: HomePaths, release: number): { release: number; outcome: string; error: string | null } | null {
  const entry = historyEntry(paths, release);
  if (entry) return { release, outcome: entry.outcome, error: entry.error ?? null };
  const record = loadRecords(paths).find((candidate) => candidate.id === release);
  if (!record || !finishedStates.includes(record.state)) return null;
  return { release, outcome: record.state === "succeeded" ? "success" : record.state, error: record.error };
}

function notFound(release: number): never {
  throw new HttpError(404, `no release ${release} in this home's history (GET /api/v1/releases lists them)`);
}

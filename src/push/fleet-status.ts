import { lastWords } from "./session.js";
import type { HostSession } from "./session.js";

/** One row of `sarge push status`: what a host serves for one process type. */
export interface FleetStatusRow {
  host: string;
  proc: string | null;
  instance: string | null;
  release: number | null;
  commit: string | null;
  /** Its commit differs from the one most hosts run for that process type. */
  differs: boolean;
  /** Why the host could not be asked. */
  error: string | null;
}

/** What each host runs (`sarge list` on each, no lock taken), the odd ones out flagged. */
export async function fleetStatus(sessions: HostSession[]): Promise<FleetStatusRow[]> {
  const perHost = await Promise.all(
    sessions.map(async (session): Promise<FleetStatusRow[]> => {
      const empty = { host: session.label, proc: null, instance: null, release: null, commit: null, differs: false };
      const result = await session.sarge(["list", "--json"]);
      if (result.code !== 0) return [{ ...empty, error: lastWords(result) }];
      const active = (JSON.parse(result.stdout) as Array<{ id: string; proc: string; state: string; release: number; commit: string | null }>).filter((i) => i.state === "active");
      if (active.length === 0) return [{ ...empty, error: "runs nothing" }];
      return active.map((i) => ({ ...empty, proc: i.proc, instance: i.id, release: i.release, commit: i.commit, error: null }));
    }),
  );
  const rows = perHost.flat();
  for (const proc of new Set(rows.map((row) => row.proc).filter((proc) => proc !== null))) {
    const ofProc = rows.filter((row) => row.proc === proc);
    const counts = new Map<string | null, number>();
    for (const row of ofProc) counts.set(row.commit, (counts.get(row.commit) ?? 0) + 1);
    const usual = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    for (const row of ofProc) row.differs = row.commit !== usual;
  }
  return rows;
}

/**
 * The per-host table of a fleet push: one row per host (its phase, the
 * phase's state, how long the host has worked, what it runs). Every change is
 * printed as a row as it happens; the CLI prints the whole table at the end.
 */
export type Phase = "check" | "lock" | "stage" | "drain" | "activate" | "verify" | "ready" | "rollback" | "discard" | "done";
export type PhaseState = "waiting" | "running" | "ok" | "failed" | "skipped";

export interface HostRow {
  host: string;
  phase: Phase;
  state: PhaseState;
  /** Time the host spent in sarge commands so far. */
  durationMs: number;
  /** What the host serves: "release 4 (1a2b3c4d5e6f)". */
  runs: string;
  note: string | null;
}

export class FleetProgress {
  private readonly rows = new Map<string, HostRow & { since: number }>();
  private readonly width: number;

  constructor(
    hosts: string[],
    private readonly say: (line: string) => void,
  ) {
    for (const host of hosts) this.rows.set(host, { host, phase: "check", state: "waiting", durationMs: 0, runs: "?", note: null, since: 0 });
    this.width = Math.max(4, ...hosts.map((host) => host.length));
    say(this.line(["HOST", "PHASE", "STATE", "TIME", "NOTE"]));
  }

  start(host: string, phase: Phase): void {
    const row = this.row(host);
    Object.assign(row, { phase, state: "running", since: Date.now(), note: null });
    this.print(row);
  }

  finish(host: string, state: "ok" | "failed" | "skipped", note: string | null = null): void {
    const row = this.row(host);
    if (row.state === "running") row.durationMs += Date.now() - row.since;
    Object.assign(row, { state, note });
    this.print(row);
  }

  runs(host: string, text: string): void {
    this.row(host).runs = text;
  }

  table(): HostRow[] {
    return [...this.rows.values()].map(({ since: _since, ...row }) => row);
  }

  private row(host: string) {
    const row = this.rows.get(host);
    if (!row) throw new Error(`no row for ${host}`);
    return row;
  }

  private print(row: HostRow): void {
    this.say(this.line([row.host, row.phase, row.state, formatSeconds(row.durationMs), row.note ?? ""]));
  }

  private line(cells: string[]): string {
    const [host, phase, state, time, note] = cells;
    return `${host!.padEnd(this.width)}  ${phase!.padEnd(8)}  ${state!.padEnd(7)}  ${time!.padStart(6)}  ${note}`.trimEnd();
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

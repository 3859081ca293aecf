import type Handlebars from "handlebars";
import { formatAge } from "../../util/format.js";

/** The states the pages show, each with a colour class and a word (never colour alone). */
const badges: Record<string, { tone: string; text: string }> = {
  success: { tone: "ok", text: "succeeded" },
  succeeded: { tone: "ok", text: "succeeded" },
  failed: { tone: "bad", text: "failed" },
  cancelled: { tone: "warn", text: "cancelled" },
  superseded: { tone: "muted", text: "superseded" },
  queued: { tone: "info", text: "queued" },
  running: { tone: "info", text: "running" },
  healthy: { tone: "ok", text: "healthy" },
  unhealthy: { tone: "bad", text: "unhealthy" },
  unknown: { tone: "muted", text: "unknown" },
  active: { tone: "ok", text: "active" },
  kept: { tone: "muted", text: "kept" },
  deploying: { tone: "info", text: "deploying" },
  retired: { tone: "muted", text: "retired" },
};

function absolute(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC");
}

function duration(ms: unknown): string {
  if (typeof ms !== "number") return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function eq(a: unknown, b: unknown): boolean {
  return a === b;
}

/** The page helpers, made with the engine that renders the pages (src/serve/dashboard/render.ts loads it with the first page). */
export function dashboardHelpers(engine: typeof Handlebars) {
  const { SafeString, escapeExpression: escape } = engine;

  /** Relative time with the absolute one beside it (and in datetime, for dashboard.js to keep the relative one fresh). */
  function time(iso: unknown): Handlebars.SafeString | string {
    if (typeof iso !== "string" || iso === "") return "—";
    return new SafeString(`<time datetime="${escape(iso)}" title="${escape(absolute(iso))}">${escape(formatAge(iso))} ago</time> <small class="abs">${escape(absolute(iso))}</small>`);
  }

  /** A commit shortened to 7, the full id on hover. */
  function commit(value: unknown): Handlebars.SafeString | string {
    if (typeof value !== "string" || value === "") return "—";
    return new SafeString(`<code class="commit" title="${escape(value)}">${escape(value.slice(0, 7))}</code>`);
  }

  function badge(state: unknown): Handlebars.SafeString {
    const key = String(state ?? "unknown");
    const known = badges[key] ?? { tone: "muted", text: key };
    return new SafeString(`<span class="badge ${known.tone}">${escape(known.text)}</span>`);
  }

  return { time, commit, badge, duration, eq };
}


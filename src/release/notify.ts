import { request as httpRequest, type ClientRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { SargeConfig } from "../home/config-types.js";
import type { Reporter } from "../util/reporter.js";
import type { SargeLog } from "../util/sarge-log.js";

export type NotifyKind = "deploy.started" | "deploy.succeeded" | "deploy.failed" | "rollback.succeeded" | "rollback.failed";

/** One deploy event, as the caller knows it. */
export interface NotifyEvent {
  kind: NotifyKind;
  release: number;
  procs: string[];
  instances: string[];
  commit: string | null;
  /** Who ran the command (history's `user`). */
  user: string;
  /** The server (os.hostname()). */
  host: string;
  /** For *.failed: the error message. */
  error?: string;
  /** For finished events: how long the deploy or rollback took. */
  durationMs?: number;
}

/** The JSON body POSTed to every `notify:` URL: a Slack-compatible `text` plus the event's fields. */
export interface NotifyPayload extends NotifyEvent {
  text: string;
  /** When the notification was sent (ISO 8601). */
  time: string;
}

/** Each endpoint gets this long, connection to response, before it is given up (docs/reference.md, notify). */
export const NOTIFY_TIMEOUT_MS = 2_000;

export interface NotifyContext {
  config: Pick<SargeConfig, "notify">;
  log: SargeLog;
  /** When given (a HomeContext has one), a failed endpoint is also reported on the terminal. */
  reporter?: Reporter;
}

/**
 * POST the event to every URL in `notify:`, all at once. Never throws, and
 * returns within `timeoutMs` (default 2 s) however the endpoints behave:
 * refused, hanging, slow or failing ones are logged to sarge.log (warn) and
 * the reporter under a label that never shows the URL's path, query or
 * credentials (webhook URLs carry their secret there).
 */
export async function notify(ctx: NotifyContext, event: NotifyEvent, options: { timeoutMs?: number } = {}): Promise<void> {
  try {
    const urls = ctx.config.notify;
    if (urls.length === 0) return;
    const body = JSON.stringify(notifyPayload(event));
    const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
    await Promise.all(urls.map((url, index) => deliver(ctx, url, index, body, event.kind, timeoutMs)));
  } catch (error) {
    // Nothing above should throw; a notification must never fail a deploy.
    safely(() => ctx.log.warn({ err: (error as Error).message }, "notify: unexpected error"));
  }
}

/** The body sent for an event. */
export function notifyPayload(event: NotifyEvent, now: Date = new Date()): NotifyPayload {
  return { text: notifyText(event), ...event, time: now.toISOString() };
}

/** One line for humans (Slack shows `text`). */
export function notifyText(event: NotifyEvent): string {
  const where = `${event.user}@${event.host}`;
  const procs = event.procs.join(", ");
  const commit = event.commit ? ` (commit ${event.commit.slice(0, 12)})` : "";
  const took = event.durationMs === undefined ? "" : ` in ${(event.durationMs / 1000).toFixed(1)}s`;
  const why = event.error ? `: ${firstLine(event.error)}` : "";
  switch (event.kind) {
    case "deploy.started":
      return `sarge: ${where} is deploying release ${event.release} (${procs})${commit}`;
    case "deploy.succeeded":
      return `sarge: ${where} deployed release ${event.release}${commit}: ${event.instances.join(", ")}${took}`;
    case "deploy.failed":
      return `sarge: deploy of release ${event.release} (${procs}) by ${where} FAILED${took}${why}`;
    case "rollback.succeeded":
      return `sarge: ${where} rolled ${procs} back to ${event.instances.join(", ")}${commit} as release ${event.release}${took}`;
    case "rollback.failed":
      return `sarge: rollback of ${procs} by ${where} (release ${event.release}) FAILED${took}${why}`;
  }
}

/**
 * How a URL appears in logs: its position in `notify:` and its origin only,
 * `notify[0] https://hooks.slack.com/…`. Credentials, path and query are left
 * out because webhook services put their secret there.
 */
export function notifyLabel(url: string, index: number): string {
  try {
    const parsed = new URL(url);
    const more = parsed.pathname !== "/" || parsed.search !== "" ? "/…" : "";
    return `notify[${index}] ${parsed.protocol}//${parsed.host}${more}`;
  } catch {
    return `notify[${index}] (not a valid URL)`;
  }
}

/** POST to one URL; resolves (never rejects) once answered, failed or timed out. */
function deliver(ctx: NotifyContext, url: string, index: number, body: string, kind: NotifyKind, timeoutMs: number): Promise<void> {
  const label = notifyLabel(url, index);
  const started = Date.now();
  return new Promise<void>((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const finish = (problem: string | null, status?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      const ms = Date.now() - started;
      if (problem === null) {
        safely(() => ctx.log.info({ notify: label, kind, status, ms }, `notified ${label} of ${kind}`));
      } else {
        safely(() => ctx.log.warn({ notify: label, kind, status, ms, problem }, `notification to ${label} failed: ${problem}`));
        safely(() => ctx.reporter?.line(`warning: notification ${kind} to ${label} failed: ${problem}`));
      }
      resolve();
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs / 1000}s`), timeoutMs);
    try {
      const target = new URL(url);
      const send = target.protocol === "https:" ? httpsRequest : target.protocol === "http:" ? httpRequest : null;
      if (!send) return finish(`unsupported protocol ${target.protocol}`);
      const auth = target.username || target.password ? `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` : undefined;
      request = send(
        {
          protocol: target.protocol,
          hostname: target.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: target.port || undefined,
          path: `${target.pathname}${target.search}`,
          method: "POST",
          auth,
          // A fresh connection that is closed afterwards: nothing lingers after the command.
          agent: false,
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": Buffer.byteLength(body),
            "User-Agent": "sarge-notify",
            Connection: "close",
          },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          // The answer's body is not needed, but reading it lets the server finish cleanly.
          response.resume();
          const done = () => finish(status >= 200 && status < 300 ? null : `HTTP ${status}`, status);
          response.once("end", done);
          response.once("close", done);
          response.once("error", done);
        },
      );
      // Connection errors name the host and port, never the path.
      request.once("error", (error: NodeJS.ErrnoException) => finish(error.code ? `${error.code} (${error.message})` : error.message));
      request.end(body);
    } catch (error) {
      finish((error as Error).message);
    }
  });
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]!;
}

function safely(action: () => void): void {
  try {
    action();
  } catch {
    // logging must not turn a notification into a failure
  }
}

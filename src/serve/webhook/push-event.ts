import type { WebhookConfig } from "../../home/config-types.js";
import { isCommitId } from "../../util/git-ref.js";

/** What a signed delivery asks for, once read. */
export type HookAction =
  | { action: "ping" }
  | { action: "ignore"; reason: string }
  | { action: "deploy"; ref: string; commit: string; who: string };

/** A delivery that is signed but not a push GitHub would send: a 400 with this message. */
export class BadDelivery extends Error {}

/**
 * Decides what a signed delivery of `event` (X-GitHub-Event) does: a push
 * to the configured branch, or of a tag matching the pattern, deploys its
 * `after` commit; anything else is answered and left alone.
 */
export function decide(event: string | undefined, payload: unknown, webhook: WebhookConfig): HookAction {
  if (event === "ping") return { action: "ping" };
  if (event !== "push") return { action: "ignore", reason: `${event === undefined ? "a delivery without X-GitHub-Event" : `the ${event} event`} deploys nothing: only push does` };
  const push = readPush(payload);
  if (push.deleted) return { action: "ignore", reason: `${push.ref} was deleted` };
  if (!deploys(push.ref, webhook)) return { action: "ignore", reason: `${push.ref} is not what webhook deploys (${describeTargets(webhook)})` };
  return { action: "deploy", ref: push.ref, commit: push.after, who: `github:${safeName(push.pusher)}` };
}

interface Push {
  ref: string;
  after: string;
  deleted: boolean;
  pusher: string;
}

function readPush(payload: unknown): Push {
  const body = (payload ?? {}) as Record<string, unknown>;
  const { ref, after, deleted } = body;
  if (typeof ref !== "string" || !/^refs\/(?:heads|tags)\/./.test(ref)) throw new BadDelivery('push payload without a "ref" like refs/heads/main');
  if (deleted === true) return { ref, after: "", deleted: true, pusher: "" };
  if (typeof after !== "string" || !isCommitId(after)) throw new BadDelivery('push payload without an "after" commit id');
  const pusher = (body.pusher as { name?: unknown } | undefined)?.name ?? (body.sender as { login?: unknown } | undefined)?.login;
  return { ref, after, deleted: false, pusher: typeof pusher === "string" ? pusher : "unknown" };
}

function deploys(ref: string, webhook: WebhookConfig): boolean {
  if (webhook.branch !== null && ref === `refs/heads/${webhook.branch}`) return true;
  return webhook.tags !== null && ref.startsWith("refs/tags/") && tagMatches(webhook.tags, ref.slice("refs/tags/".length));
}

function describeTargets(webhook: WebhookConfig): string {
  const targets = [
    ...(webhook.branch === null ? [] : [`branch ${webhook.branch}`]),
    ...(webhook.tags === null ? [] : [`tags ${webhook.tags}`]),
  ];
  return targets.join(" and ");
}

/** A tag name against the `tags` pattern: `*` any characters, `?` one, the rest as is. */
export function tagMatches(pattern: string, tag: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(tag);
}

/** GitHub names are letters, digits and -; anything else is not carried into history. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "unknown";
}

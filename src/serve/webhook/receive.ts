import { join } from "node:path";
import type { WebhookConfig } from "../../home/config-types.js";
import type { HomePaths } from "../../home/paths.js";
import type { SargeLog } from "../../util/sarge-log.js";
import { HttpError } from "../http-error.js";
import { DeliveryLog, deliveryIdPattern } from "./deliveries.js";
import { BadDelivery, decide, type HookAction } from "./push-event.js";
import { checkSignature } from "./signature.js";
import type { Wanted } from "./mirror.js";

/** One POST /hooks/github as it arrived: the headers that matter and the raw body bytes. */
export interface Delivery {
  event: string | undefined;
  id: string | undefined;
  signature: string | string[] | undefined;
  contentType: string | undefined;
  body: Buffer;
}

/** What the route needs of the release queue (src/serve/queue.ts). */
export interface DeploySubmitter {
  submit(request: { kind: "deploy"; ref: Wanted; procs: string[] | null; who: string; source: "webhook" }): Promise<{ id: number; state: string }>;
}

export interface Answer {
  status: 200 | 202;
  body: { status: "pong" | "ignored" | "duplicate" | "queued"; reason?: string; release?: number | null; state?: string; commit?: string };
  /** Who the delivery deploys as, for the request log. */
  who?: string;
}

export interface HookDeps {
  paths: HomePaths;
  webhook: WebhookConfig & { secret: string; repository: string };
  queue: DeploySubmitter;
  log: SargeLog;
}

/**
 * A delivery, in the order that keeps a forged one harmless: the signature
 * over the raw bytes first (401, nothing parsed or fetched), then the event,
 * then the delivery id claimed once, then the queue. Fetching happens later,
 * inside the queued release.
 */
export async function receiveDelivery(delivery: Delivery, deps: HookDeps): Promise<Answer> {
  const signature = checkSignature(deps.webhook.secret, delivery.body, delivery.signature);
  if (!signature.ok) throw new HttpError(401, signature.reason);
  if (!/^application\/json\s*(?:;|$)/i.test(delivery.contentType ?? "")) {
    throw new HttpError(415, `the delivery's content type is ${delivery.contentType ?? "missing"}: set Content type to application/json on GitHub's webhook page`);
  }
  const action = decideOrRefuse(delivery, deps.webhook);
  if (action.action === "ping") return { status: 200, body: { status: "pong" } };
  if (action.action === "ignore") return { status: 200, body: { status: "ignored", reason: action.reason } };

  if (delivery.id === undefined || !deliveryIdPattern.test(delivery.id)) throw new HttpError(400, "missing or malformed X-GitHub-Delivery header: GitHub sends a GUID");
  const deliveries = new DeliveryLog(join(deps.paths.webhook, "deliveries"));
  const claim = deliveries.claim(delivery.id);
  if (!claim.first) return { status: 200, body: { status: "duplicate", release: claim.release }, who: action.who };
  let queued: { id: number; state: string };
  try {
    const ref = { ref: action.ref, commit: action.commit };
    queued = await deps.queue.submit({ kind: "deploy", ref, procs: deps.webhook.procs, who: action.who, source: "webhook" });
  } catch (error) {
    deliveries.forget(delivery.id);
    throw error;
  }
  deliveries.setRelease(delivery.id, queued.id);
  deps.log.info({ delivery: delivery.id, ref: action.ref, commit: action.commit, release: queued.id, who: action.who }, "webhook push queued");
  return { status: 202, body: { status: "queued", release: queued.id, state: queued.state, commit: action.commit }, who: action.who };
}

function decideOrRefuse(delivery: Delivery, webhook: WebhookConfig): HookAction {
  let payload: unknown;
  try {
    payload = JSON.parse(delivery.body.toString("utf8"));
  } catch {
    throw new HttpError(400, "the delivery's body is not JSON");
  }
  try {
    return decide(delivery.event, payload, webhook);
  } catch (error) {
    if (error instanceof BadDelivery) throw new HttpError(400, error.message);
    throw error;
  }
}

import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../../../src/home/paths.js";
import Fastify from "fastify";
import { installAuth } from "../../../../src/serve/auth.js";
import { HttpError } from "../../../../src/serve/http-error.js";
import { webhookRoutes } from "../../../../src/serve/routes/webhook.js";
import type { DeploySubmitter } from "../../../../src/serve/webhook/receive.js";
import { signBody } from "../../../../src/serve/webhook/signature.js";

const secret = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6";
const after = "c".repeat(40);
const base = "port_range: [5010, 5099]\nport_map:\n  web: 127.0.0.1:5000\n";
const webhookBlock = `webhook:\n  secret: ${secret}\n  repository: /srv/git/app.git\n  branch: main\n  procs: [web]\n`;

/** The release queue as the route sees it: records what it is given, or refuses as a locked home does. */
class FakeQueue implements DeploySubmitter {
  submitted: Array<{ procs: string[] | null; who: string }> = [];
  refusal: HttpError | null = null;

  async submit(request: { procs: string[] | null; who: string }) {
    if (this.refusal) throw this.refusal;
    this.submitted.push({ procs: request.procs, who: request.who });
    return { id: this.submitted.length, state: "queued" };
  }
}

let root: string;
let paths: HomePaths;
let app: FastifyInstance;
let queue: FakeQueue;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "sarge-hook-"));
  paths = homePaths(root);
  mkdirSync(paths.etc, { recursive: true });
  mkdirSync(paths.run, { recursive: true });
  mkdirSync(paths.log, { recursive: true });
  queue = new FakeQueue();
  // the route alone, on a fake queue (buildServer wires it to the real one): errors and 404s shaped as buildServer shapes them
  app = Fastify();
  installAuth(app, paths);
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => reply.status(error.statusCode ?? 500).send({ error: error.message }));
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: `no route ${request.method} ${request.url}: the API is under /api/v1 (docs/server.md lists it)` }));
  webhookRoutes(app, queue);
  await app.ready();
});
afterAll(async () => {
  await app.close();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  writeFileSync(paths.config, base + webhookBlock);
  queue.submitted = [];
  queue.refusal = null;
});

interface Send {
  event?: string;
  delivery?: string;
  payload?: unknown;
  body?: Buffer;
  signature?: string | null;
  contentType?: string;
}

async function deliver(send: Send = {}) {
  const body = send.body ?? Buffer.from(JSON.stringify(send.payload ?? { ref: "refs/heads/main", after, pusher: { name: "octocat" } }));
  const headers: Record<string, string> = {
    "content-type": send.contentType ?? "application/json",
    "x-github-event": send.event ?? "push",
    "x-github-delivery": send.delivery ?? randomUUID(),
  };
  const signature = send.signature === undefined ? signBody(secret, body) : send.signature;
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const response = await app.inject({ method: "POST", url: "/hooks/github", headers, payload: body });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe("POST /hooks/github", () => {
  it("queues a push to the branch as the pusher and answers 202 with the release", async () => {
    expect(await deliver()).toEqual({ status: 202, body: { status: "queued", release: 1, state: "queued", commit: after } });
    expect(queue.submitted).toEqual([{ procs: ["web"], who: "github:octocat" }]);
  });

  it.each([
    ["missing", null, "missing X-Hub-Signature-256 header: set the webhook's Secret on GitHub to webhook.secret of etc/sarge.yaml"],
    ["wrong", signBody("not-the-configured-secret", Buffer.from("{}")), "bad signature: X-Hub-Signature-256 does not match the body signed with webhook.secret of etc/sarge.yaml"],
  ])("refuses a %s signature with 401, recording and queueing nothing", async (_, signature, message) => {
    const delivery = randomUUID();
    expect(await deliver({ signature, delivery })).toEqual({ status: 401, body: { error: message } });
    expect(queue.submitted).toEqual([]);
    expect(existsSync(join(paths.webhook, "deliveries", `${delivery}.json`))).toBe(false);
  });

  it("checks the signature before parsing: a forged body that is not JSON is a 401, not a 400", async () => {
    expect((await deliver({ body: Buffer.from("{not json"), signature: "sha256=" + "0".repeat(64) })).status).toBe(401);
  });

  it("answers a ping", async () => {
    expect(await deliver({ event: "ping", payload: { zen: "Design for failure.", hook_id: 1 } })).toEqual({ status: 200, body: { status: "pong" } });
  });

  it.each([
    [{ ref: "refs/heads/feature", after, pusher: { name: "octocat" } }, "refs/heads/feature is not what webhook deploys (branch main)"],
    [{ ref: "refs/heads/main", after: "0".repeat(40), deleted: true }, "refs/heads/main was deleted"],
  ])("ignores %j", async (payload, reason) => {
    expect(await deliver({ payload })).toEqual({ status: 200, body: { status: "ignored", reason } });
    expect(queue.submitted).toEqual([]);
  });

  it("deploys a delivery once: a repeat is a duplicate naming the release", async () => {
    const delivery = randomUUID();
    expect((await deliver({ delivery })).status).toBe(202);
    expect(await deliver({ delivery })).toEqual({ status: 200, body: { status: "duplicate", release: 1 } });
    expect(queue.submitted).toHaveLength(1);
  });

  it("deploys once when the same delivery arrives five times at once", async () => {
    const delivery = randomUUID();
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver({ delivery })));
    expect(answers.map((answer) => answer.body.status).sort()).toEqual(["duplicate", "duplicate", "duplicate", "duplicate", "queued"]);
    expect(queue.submitted).toHaveLength(1);
  });

  it("passes the queue's refusal on and lets GitHub's redelivery deploy later", async () => {
    const delivery = randomUUID();
    queue.refusal = new HttpError(423, "deploys are locked by ann: database migration");
    expect(await deliver({ delivery })).toEqual({ status: 423, body: { error: "deploys are locked by ann: database migration" } });
    queue.refusal = null;
    expect((await deliver({ delivery })).status).toBe(202);
  });

  it("refuses a body over 5 MiB with 413", async () => {
    const body = Buffer.alloc(6 * 1024 * 1024, 0x20);
    expect(await deliver({ body })).toEqual({ status: 413, body: { error: "the delivery is larger than 5 MiB, the most sarge takes at /hooks/github" } });
  });

  it.each([
    [{ contentType: "application/x-www-form-urlencoded" }, 415, "the delivery's content type is application/x-www-form-urlencoded: set Content type to application/json on GitHub's webhook page"],
    [{ body: Buffer.from("[1,") }, 400, "the delivery's body is not JSON"],
    [{ payload: { ref: "refs/heads/main", after: "HEAD" } }, 400, 'push payload without an "after" commit id'],
    [{ delivery: "../../etc/passwd" }, 400, "missing or malformed X-GitHub-Delivery header: GitHub sends a GUID"],
  ])("refuses the signed but malformed delivery %j", async (send, status, error) => {
    expect(await deliver(send)).toEqual({ status, body: { error } });
    expect(queue.submitted).toEqual([]);
  });

  it("does not exist without webhook.secret, even for a body over the cap", async () => {
    writeFileSync(paths.config, base);
    const notFound = { error: "no route POST /hooks/github: the API is under /api/v1 (docs/server.md lists it)" };
    expect(await deliver()).toEqual({ status: 404, body: notFound });
    expect(await deliver({ body: Buffer.alloc(6 * 1024 * 1024) })).toEqual({ status: 404, body: notFound });
  });

  it("never writes the secret to sarge.log", () => {
    const log = readFileSync(paths.sargeLog, "utf8");
    expect(log).toContain('"who":"github:octocat"');
    expect(log).not.toContain(secret);
  });
});

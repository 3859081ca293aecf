/**
 * Webhook deploys (docs/server.md, "Webhook deploys") end to end: a real
 * `sarge serve`, a bare repository made here as GitHub's stand-in, deliveries
 * signed with node's crypto as GitHub signs them, real deploys behind HAProxy.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HistoryEntry } from "../../src/release/history.js";
import { signBody } from "../../src/serve/webhook/signature.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { GitRepo, pushHelloVersion } from "../support/git-repo.js";
import { get } from "../support/load.js";
import { api, startServe, type ServeHandle } from "../support/serve.js";
import { waitFor } from "../support/wait.js";

const secret = "e2e-webhook-secret-0123456789abcdef";
const scratch = mkdtempSync(join(tmpdir(), "sarge-webhook-"));
const origin = join(scratch, "origin.git");

describe("webhook deploys", () => {
  const home = useDeployedHome({ extraConfig: `webhook:\n  secret: ${secret}\n  repository: ${origin}\n  branch: main\n  procs: [web]\n` });
  let serve: ServeHandle;
  let work: GitRepo;
  let deployer: string;

  beforeAll(async () => {
    GitRepo.bare(origin);
    work = GitRepo.init(join(scratch, "work"));
    serve = await startServe(home);
    const token = await home.sarge(["token", "add", "ci-bot", "--role", "deployer"]);
    expect(token.code, token.stderr).toBe(0);
    deployer = token.stdout.trim();
  });
  afterAll(async () => {
    await serve?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const mirror = () => join(home.paths.webhook, "mirror.git");
  const history = async (): Promise<HistoryEntry[]> => JSON.parse((await home.sarge(["history", "--json"])).stdout) as HistoryEntry[];

  async function deliver(payload: unknown, options: { event?: string; delivery?: string; signWith?: string; body?: Buffer } = {}) {
    const body = options.body ?? Buffer.from(JSON.stringify(payload));
    return api(`${serve.url}/hooks/github`, null, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-github-event": options.event ?? "push",
        "x-github-delivery": options.delivery ?? randomUUID(),
        "x-hub-signature-256": signBody(options.signWith ?? secret, body),
      },
    });
  }
  const push = (commit: string, ref = "refs/heads/main") => ({ ref, after: commit, deleted: false, pusher: { name: "octocat" }, sender: { login: "octocat" } });

  it("refuses a wrong signature with 401 and fetches nothing", async () => {
    const commit = pushHelloVersion(work, origin, "v2");
    const answer = await deliver(push(commit), { signWith: "someone-elses-secret-0123456789" });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: "bad signature: X-Hub-Signature-256 does not match the body signed with webhook.secret of etc/sarge.yaml" });
    expect(existsSync(mirror())).toBe(false);
  });

  it("answers GitHub's ping", async () => {
    expect(await deliver({ zen: "Practicality beats purity.", hook_id: 1 }, { event: "ping" })).toMatchObject({ status: 200, body: { status: "pong" } });
  });

  it("deploys the pushed commit: 202 with the release in under a second, then it serves, recorded with its commit and pusher", async () => {
    const commit = pushHelloVersion(work, origin, "v2");
    const delivery = randomUUID();
    const started = Date.now();
    const answer = await deliver(push(commit), { delivery });
    const elapsed = Date.now() - started;
    expect(answer.status, answer.text).toBe(202);
    expect(elapsed).toBeLessThan(1000);
    const release = (answer.body as { release: number }).release;
    expect(answer.body).toMatchObject({ status: "queued", commit });
    await waitFor(async () => (await get(home.webPort)).includes("(v2, "), "v2 on the stable port", 180_000);
    // the history line is written after the switch: wait for it
    const entry = await waitFor(async () => (await history()).find((line) => line.release === release), `release ${release} in history`, 60_000);
    expect(entry).toMatchObject({ release, kind: "deploy", outcome: "success", commit, user: "github:octocat" });

    const again = await deliver(push(commit), { delivery });
    expect(again).toMatchObject({ status: 200, body: { status: "duplicate", release } });
    expect((await history()).filter((line) => line.commit === commit)).toHaveLength(1);
  });

  it("ignores a push to another branch", async () => {
    const commit = pushHelloVersion(work, origin, "feature", "feature");
    expect(await deliver(push(commit, "refs/heads/feature"))).toMatchObject({
      status: 200,
      body: { status: "ignored", reason: "refs/heads/feature is not what webhook deploys (branch main)" },
    });
  });

  it("refuses a 6 MiB body with 413", async () => {
    const answer = await deliver(null, { body: Buffer.alloc(6 * 1024 * 1024, 0x20) });
    expect(answer).toMatchObject({ status: 413, body: { error: "the delivery is larger than 5 MiB, the most sarge takes at /hooks/github" } });
  });

  it("takes no token in place of the signature", async () => {
    const answer = await api(`${serve.url}/hooks/github`, deployer, { method: "POST", body: "{}", headers: { "content-type": "application/json", "x-github-event": "push" } });
    expect(answer.status).toBe(401);
  });

  it('deploys {"ref": <commit>} through the API, as the token', async () => {
    const commit = pushHelloVersion(work, origin, "v3", "next");
    const answer = await api(`${serve.url}/api/v1/releases?procs=web`, deployer, {
      method: "POST",
      body: JSON.stringify({ ref: commit }),
      headers: { "content-type": "application/json" },
    });
    expect(answer.status, answer.text).toBe(202);
    const release = (answer.body as { id?: number; release?: number }).id ?? (answer.body as { release: number }).release;
    await waitFor(async () => (await get(home.webPort)).includes("(v3, "), "v3 on the stable port", 180_000);
    const entry = await waitFor(async () => (await history()).find((line) => line.release === release), `release ${release} in history`, 60_000);
    expect(entry).toMatchObject({ outcome: "success", commit, user: "ci-bot" });
  });

  interface Queued {
    id: number;
    state: string;
    error: string | null;
  }
  const postRef = async (ref: string): Promise<number> => {
    const answer = await api(`${serve.url}/api/v1/releases?procs=web`, deployer, { method: "POST", body: JSON.stringify({ ref }), headers: { "content-type": "application/json" } });
    expect(answer.status, answer.text).toBe(202);
    return (answer.body as Queued).id;
  };
  const queued = async (id: number): Promise<Queued | undefined> => ((await api(`${serve.url}/api/v1/queue`, deployer)).body as Queued[]).find((record) => record.id === id);
  const ended = (id: number): Promise<Queued> =>
    waitFor(
      async () => {
        const record = await queued(id);
        return record && !["queued", "running"].includes(record.state) ? record : null;
      },
      `release ${id} to end`,
      180_000,
      100,
    );

  it("fails a release whose fetch fails with what git said, and the live version stays", async () => {
    const missingRef = await ended(await postRef("no-such-branch"));
    expect(missingRef).toMatchObject({ state: "failed", error: `cannot fetch no-such-branch from ${origin}: fatal: couldn't find remote ref no-such-branch` });

    const missing = join(scratch, "moved-away.git");
    const config = readFileSync(home.paths.config, "utf8");
    writeFileSync(home.paths.config, config.replace(`repository: ${origin}`, `repository: ${missing}`));
    try {
      const id = await postRef("main");
      const missingRepository = await ended(id);
      const said = `cannot fetch main from ${missing}: fatal: '${missing}' does not appear to be a git repository`;
      expect(missingRepository).toMatchObject({ state: "failed", error: said });
      expect((await api(`${serve.url}/api/v1/releases/${id}/log`, deployer)).body).toMatchObject({ text: `sarge: ${said}\n`, end: { release: id, outcome: "failed", error: said } });
    } finally {
      writeFileSync(home.paths.config, config);
    }
    expect(await get(home.webPort)).toContain("(v3, ");
  });

  it("keeps a waiting webhook deploy across a kill -9 of the server: it runs after the restart, from its ref", async () => {
    const gate = join(scratch, "webhook-gate");
    const held = pushHelloVersion(work, origin, "w1", "main", { Procfile: `web: python app.py\nrelease: while [ ! -e ${gate} ]; do sleep 0.05; done\n` });
    const running = (await deliver(push(held))).body as { release: number };
    // its deploy at the release hook: past the fetch and the upload, so it outlives the server
    const logText = async () => ((await api(`${serve.url}/api/v1/releases/${running.release}/log`, deployer)).body as { text: string }).text;
    await waitFor(async () => (await logText()).includes("release: while"), "the held release's deploy to reach its release hook", 60_000, 50);
    const newest = pushHelloVersion(work, origin, "w2");
    const waiting = await deliver(push(newest));
    expect(waiting.body).toMatchObject({ status: "queued", state: "queued" });
    await serve.process.kill();
    serve = await startServe(home, serve.port);
    writeFileSync(gate, "");
    expect(await ended(running.release)).toMatchObject({ state: "succeeded" });
    expect(await ended((waiting.body as { release: number }).release)).toMatchObject({ state: "succeeded", error: null });
    expect(await get(home.webPort)).toContain("(w2, ");
  });

  it("never shows the secret in sarge.log", () => {
    expect(readFileSync(home.paths.sargeLog, "utf8")).not.toContain(secret);
  });
});

/**
 * sarge serve's access rules, on a real server over real HTTP: every route of
 * test/support/serve-routes.ts × every credential gives the documented status
 * (docs/server.md, "Roles"), and refusals say why.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useDeployedHome } from "../support/deployed-home.js";
import { api, credentials, logText, makeTokens, readEvents, startServe, type Credential, type ServeHandle, type TokenSet } from "../support/serve.js";
import { routeTable, type RouteRow } from "../support/serve-routes.js";
import { can, type Role } from "../../src/serve/roles.js";

const secretValue = "s3cret-value-never-shown";

function expectedStatus(row: RouteRow, credential: Credential): number {
  if (credential === "none" || credential === "bad" || credential === "expired" || credential === "revoked") return 401;
  return can(credential as Role, row.permission) ? row.ok : 403;
}

describe("sarge serve: every route × every credential", () => {
  const home = useDeployedHome({ extraConfig: `serve:\n  failed_auth_limit: 100000\n`, moreEnv: { API_KEY: secretValue } });
  let serve: ServeHandle;
  let tokens: TokenSet;
  let instance: string;

  beforeAll(async () => {
    tokens = await makeTokens(home);
    serve = await startServe(home);
    const list = await home.sarge(["list", "--json"]);
    instance = (JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((i) => i.state === "active")!.id;
  });
  afterAll(async () => serve?.stop());

  it("answers /healthz without a token", async () => {
    const answer = await api(`${serve.url}/healthz`, null);
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
  });

  it("gives each credential the documented status on every route", async () => {
    const mismatches: string[] = [];
    for (const row of routeTable) {
      for (const credential of credentials) {
        const path = row.path.replace(":instance", instance);
        const answer = await api(`${serve.url}${path}`, tokens[credential], { method: row.method, body: row.body?.(), headers: row.headers });
        const want = expectedStatus(row, credential);
        if (answer.status !== want) mismatches.push(`${row.method} ${path} as ${credential}: ${answer.status}, expected ${want}: ${answer.text.slice(0, 200)}`);
        if (answer.status >= 400) expect(answer.body, `${row.method} ${path} as ${credential}`).toEqual({ error: expect.any(String) });
        if (credential !== "admin") expect(answer.text, `${row.method} ${path} as ${credential}`).not.toContain(secretValue);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it("says why a token is refused", async () => {
    const status = `${serve.url}/api/v1/status`;
    expect((await api(status, null)).body).toEqual({ error: expect.stringContaining('this needs a token: send "Authorization: Bearer <token>"') });
    expect((await api(status, tokens.bad)).body).toEqual({ error: expect.stringContaining("unknown token") });
    expect((await api(status, tokens.expired)).body).toEqual({ error: expect.stringMatching(/^token old-expired expired on \d{4}-.*ask an admin for a new one/) });
    expect((await api(status, tokens.revoked)).body).toEqual({ error: expect.stringMatching(/^token eve-revoked was revoked on \d{4}-/) });
    expect((await api(status, "x", { headers: { authorization: "Basic abc" } })).status).toBe(401);
  });

  it("answers status with the shape of sarge status --json", async () => {
    const cli = await home.sarge(["status", "--json"]);
    const answer = await api(`${serve.url}/api/v1/status`, tokens.viewer);
    expect(answer.status).toBe(200);
    // sarge_version included, as the CLI prints it (src/util/version.ts withSargeVersion)
    expect(answer.body).toEqual(JSON.parse(cli.stdout));
  });

  it("answers instances, releases and config with the shapes of the CLI's --json", async () => {
    const list = JSON.parse((await home.sarge(["list", "--json"])).stdout);
    expect((await api(`${serve.url}/api/v1/instances`, tokens.viewer)).body).toEqual(list);
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout) as Array<{ outcome: string }>;
    expect((await api(`${serve.url}/api/v1/releases`, tokens.viewer)).body).toEqual(history);
    expect((await api(`${serve.url}/api/v1/releases?outcome=success&n=1`, tokens.viewer)).body).toEqual(history.filter((e) => e.outcome === "success").slice(-1));
    expect((await api(`${serve.url}/api/v1/releases?outcome=failed`, tokens.viewer)).body).toEqual([]);
    expect((await api(`${serve.url}/api/v1/releases/1`, tokens.viewer)).body).toEqual(history[0]);
    expect((await api(`${serve.url}/api/v1/releases?outcome=ok`, tokens.viewer)).body).toEqual({ error: 'invalid outcome "ok": use success or failed or cancelled' });
    const names = JSON.parse((await home.sarge(["config", "list", "--json"])).stdout);
    expect(names).toEqual({ sarge_version: expect.any(String), MESSAGE: null, API_KEY: null });
    expect((await api(`${serve.url}/api/v1/config`, tokens.deployer)).body).toEqual(names);
    expect((await api(`${serve.url}/api/v1/config?values=1`, tokens.admin)).body).toEqual({ sarge_version: names.sarge_version, MESSAGE: "hello sarge!", API_KEY: secretValue });
    expect((await api(`${serve.url}/api/v1/config?values=1`, tokens.deployer)).body).toEqual({
      error: "token bob-deployer is a deployer: config values need an admin token (leave out values=1 for the names)",
    });
  });

  it("pages an instance's log by byte offset", async () => {
    const file = readFileSync(join(home.paths.log, `${instance}.log`));
    const first = (await api(`${serve.url}/api/v1/instances/${instance}/log`, tokens.viewer)).body as { offset: number; next: number; size: number; text: string; end: null };
    expect(first).toMatchObject({ offset: 0, end: null });
    expect(first.size).toBeGreaterThanOrEqual(file.length);
    expect(first.text.startsWith(file.toString("utf8"))).toBe(true);
    const rest = (await api(`${serve.url}/api/v1/instances/${instance}/log?offset=${first.next}`, tokens.viewer)).body as { offset: number };
    expect(rest.offset).toBe(first.next);
    expect((await api(`${serve.url}/api/v1/instances/${instance}/log?offset=-1`, tokens.viewer)).body).toEqual({ error: expect.stringContaining('invalid offset "-1"') });
  });

  it("refuses traversal in every name parameter, however it is spelled", async () => {
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: serve.port, path, headers: { authorization: `Bearer ${tokens.admin}` } }, (response) => {
          response.resume();
          resolve(response.statusCode!);
        });
        req.on("error", reject);
        req.end();
      });
    for (const name of ["..", "../../etc", "..%2F..%2Fetc", "%2e%2e", "web-abcdef%00", "web-abcdef%2F..", "constructor", "__proto__"]) {
      expect(await raw(`/api/v1/instances/${name}/log`), name).toBe(400);
      expect(await raw(`/api/v1/releases/${name}/log`), name).toBe(400);
      expect(await raw(`/api/v1/releases/${name}`), name).toBe(400);
    }
  });

  it("writes no config value in any log line, and logs who asked", () => {
    const logs = readdirSync(home.paths.log).filter((name) => name.endsWith(".log"));
    for (const name of logs) expect(readFileSync(join(home.paths.log, name), "utf8"), name).not.toContain(secretValue);
    expect(readFileSync(home.paths.sargeLog, "utf8")).toMatch(/"command":"serve".*"path":"\/api\/v1\/status","status":200,"who":"ann-viewer"/);
  });

  it("streams a release's log as SSE: ids are byte offsets, a reconnect repeats no byte, the end event carries the outcome", async () => {
    // as the queue writes it (src/serve/log-stream.ts releaseLogPath): the output, then the history line
    mkdirSync(join(home.paths.log, "releases"), { recursive: true });
    const log = join(home.paths.log, "releases", "2.log");
    writeFileSync(log, "unpack: 3 files\n");
    const url = `${serve.url}/api/v1/releases/2/log`;
    const first = await readEvents(url, tokens.viewer, { until: (events) => events.length >= 1 });
    expect(first).toEqual([{ event: "log", id: "16", data: JSON.stringify("unpack: 3 files\n") }]);
    const whole = readEvents(url, tokens.viewer, { until: (events) => events.some((event) => event.event === "end") });
    appendFileSync(log, "environment: ünïcode ✓\n");
    appendFileSync(log, "switch: web\n");
    const entry = { ...JSON.parse(readFileSync(home.paths.history, "utf8").split("\n")[0]!), release: 2 };
    appendFileSync(home.paths.history, JSON.stringify(entry) + "\n");
    const events = await whole;
    expect(logText(events)).toBe(readFileSync(log, "utf8"));
    expect(events.at(-1)).toEqual({ event: "end", id: String(readFileSync(log).length), data: JSON.stringify({ release: 2, outcome: "success", error: null }) });
    const resumed = await readEvents(url, tokens.viewer, { lastEventId: "16", until: (all) => all.some((event) => event.event === "end") });
    expect(logText(resumed)).toBe(readFileSync(log).subarray(16).toString("utf8"));
    const page = (await api(`${url}?offset=16`, tokens.viewer)).body;
    expect(page).toEqual({ offset: 16, next: readFileSync(log).length, size: readFileSync(log).length, text: readFileSync(log).subarray(16).toString("utf8"), end: { release: 2, outcome: "success", error: null } });
  });
});

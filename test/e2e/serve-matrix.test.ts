/**
 * sarge serve's access rules, on a real server over real HTTP: every route of
 * test/support/serve-routes.ts × every credential gives the documented status
 * (docs/server.md, "Roles"), and refusals say why.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useDeployedHome } from "../support/deployed-home.js";
import { api, credentials, makeTokens, startServe, type Credential, type ServeHandle, type TokenSet } from "../support/serve.js";
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
    expect(answer.body).toEqual(JSON.parse(cli.stdout));
  });

  it("writes no config value in any log line, and logs who asked", () => {
    const logs = readdirSync(home.paths.log).filter((name) => name.endsWith(".log"));
    for (const name of logs) expect(readFileSync(join(home.paths.log, name), "utf8"), name).not.toContain(secretValue);
    expect(readFileSync(home.paths.sargeLog, "utf8")).toMatch(/"command":"serve".*"path":"\/api\/v1\/status","status":200,"who":"ann-viewer"/);
  });
});

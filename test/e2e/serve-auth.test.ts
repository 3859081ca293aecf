/**
 * sarge serve's refusals that need a server of their own: the per-address
 * limit on refused tokens, and the listen checks of `sarge serve`.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHome, type TestHome } from "../support/home.js";
import { freePortBlock } from "../support/ports.js";
import { api, startServe, type ServeHandle } from "../support/serve.js";

/** GET from a chosen loopback source address (127.0.0.2 is another client to the server). */
function getFrom(localAddress: string, url: string, token: string): Promise<{ status: number; body: unknown; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, headers: { authorization: `Bearer ${token}` } }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => resolve({ status: response.statusCode!, body: JSON.parse(text), retryAfter: response.headers["retry-after"] }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("sarge serve: refused tokens per address", () => {
  let home: TestHome;
  let serve: ServeHandle;
  let good: string;

  beforeAll(async () => {
    home = await createTestHome({ withGreetingWheel: false, extraConfig: "serve:\n  failed_auth_limit: 3\n" });
    good = (await home.sarge(["token", "add", "ann", "--role", "viewer"])).stdout.trim();
    serve = await startServe(home);
  });
  afterAll(async () => {
    await serve?.stop();
    if (home) expect(await home.destroy()).toEqual([]);
  });

  it("refuses an address after failed_auth_limit refused tokens, even with a good one, and only that address", async () => {
    const status = `${serve.url}/api/v1/status`;
    for (let i = 0; i < 3; i++) expect((await getFrom("127.0.0.1", status, `sarge_guess${i}`)).status).toBe(401);
    const limited = await getFrom("127.0.0.1", status, good);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ error: expect.stringMatching(/^too many failed token attempts from 127\.0\.0\.1: try again in \d+ s$/) });
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(Number(limited.retryAfter)).toBeLessThanOrEqual(60);
    // another client address is not limited
    const other = await getFrom("127.0.0.2", status, good);
    expect(other.status, JSON.stringify(other.body)).not.toBe(429);
    expect(other.status).not.toBe(401);
  });

  it("answers unknown paths and bad methods with the JSON error shape", async () => {
    expect(await api(`${serve.url}/api/v2/nothing`, null)).toMatchObject({ status: 404, body: { error: "no route GET /api/v2/nothing: the API is under /api/v1 (docs/server.md lists it)" } });
  });

  it("refuses a non-loopback listen address without serve.allow_remote", async () => {
    const port = await freePortBlock(1);
    const refused = await home.sarge(["serve", "--listen", `0.0.0.0:${port}`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("0.0.0.0 is not a loopback address: the API would be reachable from other machines; set serve.allow_remote: true");
  });

  it("says so when the port is taken", async () => {
    const taken = await home.sarge(["serve", "--listen", `127.0.0.1:${serve.port}`]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`cannot listen on 127.0.0.1:${serve.port}: another program uses that port; set serve.listen to a free one`);
  });
});

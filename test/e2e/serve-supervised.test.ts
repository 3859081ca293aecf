/**
 * sarge serve run by the home's supervisor (`sarge serve --supervise`), with
 * TLS terminated by the home's HAProxy using a certificate made here by
 * openssl: it answers over HTTPS, and comes back after it is killed.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHome, type TestHome } from "../support/home.js";
import { freePortBlock } from "../support/ports.js";
import { api, waitForServe } from "../support/serve.js";
import { waitFor } from "../support/wait.js";

interface HttpsAnswer {
  status: number;
  body: unknown;
  cookie: string | undefined;
}

function httpsRequest(url: string, ca: string, options: { token?: string; localAddress?: string; headers?: Record<string, string>; form?: string } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
    const method = options.form === undefined ? "GET" : "POST";
    const req = request(url, { method, ca, servername: "localhost", headers, localAddress: options.localAddress }, (response) => {
      let text = "";
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      response.on("end", () => {
        const json = (response.headers["content-type"] ?? "").startsWith("application/json");
        resolve({ status: response.statusCode!, body: json ? JSON.parse(text) : text, cookie: response.headers["set-cookie"]?.[0] });
      });
    });
    req.on("error", reject);
    req.end(options.form);
  });
}

const httpsGet = (url: string, ca: string, token: string, options: { localAddress?: string; headers?: Record<string, string> } = {}) =>
  httpsRequest(url, ca, { ...options, token }).then(({ status, body }) => ({ status, body }));

describe("sarge serve under the supervisor, behind the home's HAProxy for TLS", () => {
  let home: TestHome;
  let port: number;
  let url: string;

  beforeAll(async () => {
    port = await freePortBlock(2);
    url = `http://127.0.0.1:${port}`;
    home = await createTestHome({
      withGreetingWheel: false,
      extraConfig: `serve:\n  listen: 127.0.0.1:${port}\n  tls:\n    cert: etc/tls/cert.pem\n    key: etc/tls/key.pem\n    listen: 127.0.0.1:${port + 1}\n  failed_auth_limit: 3\n`,
    });
    const tls = join(home.paths.etc, "tls");
    execFileSync("mkdir", ["-p", tls]);
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", join(tls, "key.pem"), "-out", join(tls, "cert.pem")], { stdio: "ignore" });
    await home.startSupervisor();
  });
  afterAll(async () => {
    if (home) expect(await home.destroy()).toEqual([]);
  });

  it("starts it with --supervise, and answers over HTTPS", async () => {
    const supervise = await home.sarge(["serve", "--supervise"]);
    expect(supervise.stderr).toBe("");
    expect(supervise.stdout).toBe(`sarge serve runs under the supervisor: ${url}, https://127.0.0.1:${port + 1}\n`);
    const token = (await home.sarge(["token", "add", "ann", "--role", "viewer"])).stdout.trim();
    const answer = await httpsGet(`https://localhost:${port + 1}/api/v1/status`, readFileSync(join(home.paths.etc, "tls", "cert.pem"), "utf8"), token);
    expect(answer).toEqual({ status: 200, body: [expect.objectContaining({ proc: "web" })] });
    expect((await api(`${url}/healthz`, null)).status).toBe(200);
  });

  it("makes the session cookie Secure when the login came through the TLS frontend, and never because a header says https", async () => {
    const token = (await home.sarge(["token", "add", "cy", "--role", "viewer"])).stdout.trim();
    const form = new URLSearchParams({ token, next: "/" }).toString();
    const ca = readFileSync(join(home.paths.etc, "tls", "cert.pem"), "utf8");
    const overTls = await httpsRequest(`https://localhost:${port + 1}/login`, ca, { form, headers: { origin: `https://localhost:${port + 1}` } });
    expect(overTls.status, String(overTls.body)).toBe(303);
    expect(overTls.cookie).toMatch(/; Secure/);
    const plain = await fetch(`${url}/login`, {
      method: "POST",
      body: form,
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: url, "x-forwarded-proto": "https" },
    });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("set-cookie")).not.toMatch(/Secure/);
  });

  it("counts refused tokens against the address HAProxy names, never one a client puts in X-Forwarded-For", async () => {
    const spoofed = { "x-forwarded-for": "203.0.113.9", "x-sarge-proxy": "a-guess" };
    for (let attempt = 0; attempt < 3; attempt++) expect((await api(`${url}/api/v1/status`, "sarge_wrong", { headers: spoofed })).status).toBe(401);
    const direct = await api(`${url}/api/v1/status`, "sarge_wrong", { headers: { "x-forwarded-for": "198.51.100.1" } });
    expect([direct.status, direct.body]).toEqual([429, { error: expect.stringMatching(/^too many failed token attempts from 127\.0\.0\.1: try again in \d+ s$/) }]);

    // through the TLS frontend from another loopback address: that address counts, whatever X-Forwarded-For the client sent
    const ca = readFileSync(join(home.paths.etc, "tls", "cert.pem"), "utf8");
    const viaProxy = () => httpsGet(`https://localhost:${port + 1}/api/v1/status`, ca, "sarge_wrong", { localAddress: "127.0.0.3", headers: spoofed });
    for (let attempt = 0; attempt < 3; attempt++) expect((await viaProxy()).status).toBe(401);
    expect(await viaProxy()).toEqual({ status: 429, body: { error: expect.stringMatching(/^too many failed token attempts from 127\.0\.0\.3: try again in \d+ s$/) } });
  });

  it("comes back after it is killed, as the apps do", async () => {
    const serveLine = execFileSync("pgrep", ["-f", "--", `--home ${home.root} serve`]).toString().trim().split("\n")[0]!;
    process.kill(Number(serveLine), "SIGKILL");
    await waitFor(() => {
      try {
        const now = execFileSync("pgrep", ["-f", "--", `--home ${home.root} serve`]).toString().trim().split("\n")[0];
        return now !== serveLine && now;
      } catch {
        return false;
      }
    }, "the supervisor to start sarge serve again", 30_000);
    await waitForServe(url);
  });

  it("stops it with --unsupervise", async () => {
    const stop = await home.sarge(["serve", "--unsupervise"]);
    expect(stop.code, stop.stderr).toBe(0);
    await waitFor(async () => !(await fetch(`${url}/healthz`).catch(() => null)), "sarge serve to stop");
  });
});

/**
 * The dashboard in a real browser (docs/server.md, "Dashboard"): chromium
 * driven by playwright-core against `sarge serve`'s app on a deployed home.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentationShots, useBrowser } from "../support/browser.js";
import { viewports } from "../support/chromium.js";
import { logIn, startDashboardServer, type DashboardServer } from "../support/dashboard-server.js";
import { helloVersion } from "../support/apps.js";
import { failuresOf } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { GitRepo, pushHelloVersion } from "../support/git-repo.js";
import { instanceOf, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";

async function stableAnswer(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

/** The webhook's repository, as GitHub's stand-in: /deploy lists the commits of its main branch. */
const scratch = mkdtempSync(join(tmpdir(), "sarge-dashboard-"));
const origin = join(scratch, "origin.git");

describe("the dashboard", () => {
  const home = useDeployedHome({ extraConfig: `webhook:\n  repository: ${origin}\n  branch: main\n` });
  const browser = useBrowser();
  let server: DashboardServer;
  beforeAll(async () => {
    GitRepo.bare(origin);
    server = await startDashboardServer(home.paths);
  });
  afterAll(async () => {
    await server?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("logs a deployer in with a strict, HttpOnly, expiring session cookie and shows the active instance", async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    expect(page.url()).toBe(`${server.url}/login?next=%2F`);
    await page.fill("#token", "sarge_not-a-token");
    await page.click("button.primary");
    await expect(page.textContent(".flash.bad")).resolves.toContain("unknown token");
    await documentationShots(page, "login");

    await logIn(page, server, server.tokens.deployer);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: "sarge_session", httpOnly: true, sameSite: "Strict", secure: false });
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000);

    const status = JSON.parse((await home.sarge(["status", "--json"])).stdout) as Array<{ proc: string; active: string }>;
    const web = page.locator("table.procs tbody tr", { hasText: "web" });
    await expect(web.textContent()).resolves.toContain(status.find((row) => row.proc === "web")!.active);
    await expect(web.textContent()).resolves.toContain(`127.0.0.1:${home.webPort}`);
    await expect(web.locator(".badge").textContent()).resolves.toBe("healthy");
    expect(await page.locator("header nav").textContent()).toContain("Deploy");
    expect(await page.locator("header nav").textContent()).not.toContain("Config");
    await documentationShots(page, "home");

    // a deploy made elsewhere (over ssh) shows up without a reload: the page's #live part follows /events
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    const deployed = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v2") });
    expect(deployed.code, deployed.stderr).toBe(0);
    const latest = page.locator("table.releases tbody tr").first();
    await waitFor(async () => /#2\s.*succeeded/s.test((await latest.textContent()) ?? ""), "release #2 on the page without a reload", 30_000);
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await stableAnswer(home.webPort)).toContain("(v2,");
    const v2 = JSON.parse((await home.sarge(["status", "--json"])).stdout)[0].active as string;
    await expect(web.textContent()).resolves.toContain(v2);

    await page.click("table.procs tbody tr a");
    await expect(page.textContent("h1")).resolves.toContain(v2);
    await expect(page.textContent("#log")).resolves.toContain("listening on 127.0.0.1");
    await fetch(`http://127.0.0.1:${home.webPort}/followed-live`);
    await waitFor(async () => (await page.textContent("#log"))?.includes("GET /followed-live"), "the request's log line on the open page", 30_000);
    await documentationShots(page, "instance-logs");

    await page.click("text=Log out");
    await page.goto(`${server.url}/`);
    expect(page.url()).toContain("/login");
  });

  it("deploys an archive uploaded on /deploy: the release page streams its log until it succeeded, and the stable port answers the new version", async () => {
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.deployer);
    await page.click("header nav >> text=Deploy");
    const archive = join(home.root, "..", "v5.tar");
    writeFileSync(archive, helloVersion("v5"));
    await page.setInputFiles("#archive", archive);
    await Promise.all([page.waitForURL(/\/releases\/\d+$/, { timeout: 60_000 }), page.click("form button.primary")]);
    await waitFor(async () => (await page.textContent("h1"))?.includes("succeeded"), "the release page to say succeeded", 90_000);
    await waitFor(async () => (await page.textContent("#log"))?.includes("unpacked"), "the release's log on its page", 30_000);
    expect(await stableAnswer(home.webPort)).toContain("(v5,");
  });

  it("lets an admin set config as a release with values hidden until asked, then roll back to an earlier version with the button", async () => {
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.admin);
    await page.goto(`${server.url}/config`);
    await expect(page.textContent("table.config")).resolves.not.toContain("hello sarge!");
    await page.click("table.config >> text=Show");
    await expect(page.textContent("table.config")).resolves.toContain("hello sarge!");
    await documentationShots(page, "config");

    await page.fill("#key", "MESSAGE");
    await page.fill("#value", "bonjour");
    await Promise.all([page.waitForURL(/\/releases\/\d+$/, { timeout: 90_000 }), page.click("text=Set (a release)")]);
    await expect(page.textContent("h1")).resolves.toContain("succeeded");
    await expect(page.textContent("dl.facts")).resolves.toContain("ada");
    expect(await stableAnswer(home.webPort)).toContain("bonjour");

    await page.goto(`${server.url}/releases/2`);
    await documentationShots(page, "release");
    await Promise.all([page.waitForURL(/\/releases\/\d+$/, { timeout: 90_000 }), page.click("text=Roll back to this")]);
    await expect(page.textContent("h1")).resolves.toContain("succeeded");
    const answer = await stableAnswer(home.webPort);
    expect(answer).toContain("hello sarge!");
    expect(answer).toContain("(v2,");
  });

  it("locks deploys from the page: a deploy is refused with the reason and who, and every open page shows the banner", async () => {
    const watcher = await browser.newPage(viewports.phone);
    await logIn(watcher, server, server.tokens.viewer);
    expect(await watcher.locator("#lock-form, .lock-form").count()).toBe(0);
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.deployer);
    await page.fill("#lock-reason", "database migration until 15:00");
    await page.click(".lock-form button");
    const banner = page.locator("#lock-banner");
    await expect(banner.textContent()).resolves.toMatch(/Deploys are locked.*by dee.*database migration until 15:00/s);
    await waitFor(async () => (await watcher.locator("#lock-banner").count()) === 1, "the banner on the viewer's open page");
    await documentationShots(page, "home-locked");

    const throughApi = await fetch(`${server.url}/api/v1/releases`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.tokens.deployer}`, "content-type": "application/x-tar" },
      body: helloVersion("v3"),
    });
    expect(throughApi.status).toBe(423);
    const apiRefusal = await throughApi.text();
    expect(apiRefusal).toContain("deploys are locked by dee");
    expect(apiRefusal).toContain("database migration until 15:00");
    await expect(banner.textContent()).resolves.toContain("database migration until 15:00");

    const refused = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v3") });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("deploys are locked by dee");
    expect(refused.stderr).toContain("database migration until 15:00");
    expect(await stableAnswer(home.webPort)).toContain("(v2,");

    await page.click("#lock-banner button");
    expect(await page.locator("#lock-banner").count()).toBe(0);
    await waitFor(async () => (await watcher.locator("#lock-banner").count()) === 0, "the banner gone from the viewer's page");
    browser.use(watcher);
  });

  it("shows an admin a new token once and ends the sessions of a revoked one", async () => {
    const admin = await browser.newPage();
    await logIn(admin, server, server.tokens.admin);
    await admin.goto(`${server.url}/tokens`);
    await admin.fill("#name", "temp");
    await admin.selectOption("#role", "viewer");
    await admin.click("button:has-text('Add')");
    const secret = (await admin.textContent("#new-token"))!.trim();
    expect(secret).toMatch(/^sarge_/);
    await documentationShots(admin, "tokens");
    await admin.reload();
    await expect(admin.content()).resolves.not.toContain(secret);

    const temp = await browser.newPage();
    await logIn(temp, server, secret);
    await admin.goto(`${server.url}/tokens`);
    await admin.locator("table.tokens tr", { hasText: "temp" }).locator("text=Revoke").click();
    await expect(admin.textContent(".flash")).resolves.toContain("token temp revoked");
    await temp.goto(`${server.url}/`);
    expect(temp.url()).toContain("/login");

    // a new token under the revoked one's name does not revive the old session: sessions belong to the token, not its name
    const oldCookie = (await temp.context().cookies()).find((cookie) => cookie.name === "sarge_session");
    expect(oldCookie).toBeDefined();
    await admin.fill("#name", "temp");
    await admin.selectOption("#role", "viewer");
    await admin.click("button:has-text('Add')");
    await expect(admin.textContent("#new-token")).resolves.toMatch(/^\s*sarge_/);
    const again = await fetch(`${server.url}/api/v1/status`, { headers: { cookie: `sarge_session=${oldCookie!.value}` } });
    expect(again.status).toBe(401);
    await expect(again.text()).resolves.toContain("your session has ended");
    await temp.goto(`${server.url}/`);
    expect(temp.url()).toContain("/login");
    browser.use(admin);
  });

  it("shows a viewer no Deploy, Cancel, Rollback or Config, and refuses them with 403 when it POSTs anyway", async () => {
    const page = await browser.newPage(viewports.phone);
    await logIn(page, server, server.tokens.viewer);
    const nav = await page.locator("header nav").textContent();
    expect(nav).not.toContain("Deploy");
    expect(nav).not.toContain("Config");
    expect(nav).not.toContain("Tokens");
    await page.goto(`${server.url}/releases/1`);
    expect(await page.locator("text=Roll back to this").count()).toBe(0);
    for (const [path, body] of [["/releases/1/rollback", ""], ["/releases/1/cancel", ""], ["/lock", "reason=mine"], ["/config", "key=MESSAGE&value=pwned"], ["/tokens", "name=mine&role=admin"]] as const) {
      const answer = await page.evaluate(
        async ([url, form]) => {
          const response = await fetch(url, { method: "POST", body: new URLSearchParams(form) });
          return { status: response.status, text: await response.text() };
        },
        [path, body] as const,
      );
      expect(answer.status, path).toBe(403);
      expect(answer.text).toContain("token vera is a viewer");
    }
    expect(await stableAnswer(home.webPort)).toContain("hello sarge!");
  });

  it("refuses a form POSTed from another site's page with 403 and says why", async () => {
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.admin);
    // another origin (a different port is a different origin but the same site, so the SameSite cookie goes along: the Origin check must refuse it)
    const evil: Server = createServer((_request, response) => {
      response.setHeader("content-type", "text/html");
      response.end(`<form method="post" action="${server.url}/config"><input name="key" value="MESSAGE"><input name="value" value="pwned"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = evil.address() as { port: number };
      const [response] = await Promise.all([page.waitForResponse(`${server.url}/config`), page.goto(`http://127.0.0.1:${port}/`)]);
      expect(response.status()).toBe(403);
      await waitFor(async () => (await page.textContent("body"))?.includes("cross-site request"), "the refusal page");
    } finally {
      evil.close();
    }
    expect(await stableAnswer(home.webPort)).toContain("hello sarge!");
  });

  it("deploys a commit picked from the webhook repository's branch on /deploy: the release records it and the stable port answers it", async () => {
    const work = GitRepo.init(join(scratch, "work"));
    const v6 = pushHelloVersion(work, origin, "v6");
    const v7 = pushHelloVersion(work, origin, "v7");
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.deployer);
    await page.goto(`${server.url}/deploy`);
    const options = await page.locator("#ref option").evaluateAll((nodes) => nodes.map((node) => [(node as unknown as { value: string }).value, node.textContent]));
    expect(options.map(([value]) => value)).toEqual([v7, v6, ...options.slice(2).map(([value]) => value)]);
    expect(options[1]![1]).toContain(`${v6.slice(0, 7)} — hello v6`);
    await documentationShots(page, "deploy");

    await page.selectOption("#ref", v6);
    await Promise.all([page.waitForURL(/\/releases\/\d+$/, { timeout: 60_000 }), page.click("text=Deploy this commit")]);
    await waitFor(async () => /succeeded|failed|cancelled/.test((await page.textContent("h1")) ?? ""), "the release to end", 90_000);
    await expect(page.textContent("h1")).resolves.toContain("succeeded");
    await expect(page.getAttribute("dl.facts code.commit", "title")).resolves.toBe(v6);
    expect(await stableAnswer(home.webPort)).toContain("(v6,");
  });

  it("cancels a long deploy from its page: the release ends cancelled and the live version answers throughout", async () => {
    const before = await stableAnswer(home.webPort);
    const gate = join(home.root, "never-opened-gate");
    const held = helloVersion("v9", { Procfile: `web: python app.py\nrelease: while [ ! -e ${gate} ]; do sleep 0.05; done\n` });
    const archive = join(home.root, "..", "held.tar");
    writeFileSync(archive, held);
    const page = await browser.newPage();
    await logIn(page, server, server.tokens.deployer);
    await page.goto(`${server.url}/deploy`);
    await page.setInputFiles("#archive", archive);
    await Promise.all([page.waitForURL(/\/releases\/\d+$/, { timeout: 60_000 }), page.click("form button.primary")]);
    await waitFor(async () => (await page.textContent("#log"))?.includes("release: while"), "the release hook to run (its line in the page's log)", 90_000);

    const viewer = await browser.newPage();
    await logIn(viewer, server, server.tokens.viewer);
    await viewer.goto(page.url());
    await expect(viewer.textContent("h1")).resolves.toContain("running");
    expect(await viewer.locator("button:has-text('Cancel')").count()).toBe(0);
    browser.use(page);
    await documentationShots(page, "release-running");
    const load = startLoad(home.webPort, { workers: 2 });
    await page.click("button:has-text('Cancel')");
    await waitFor(async () => (await page.textContent("h1"))?.includes("cancelled"), "the release page to say cancelled", 60_000);
    const samples = await load.stop();
    console.log(`cancelled from the dashboard: ${failuresOf(samples).length} failed of ${samples.length} requests`);

    expect(failuresOf(samples)).toEqual([]);
    expect(samples.length).toBeGreaterThan(0);
    expect(new Set(samples.map((sample) => sample.instance))).toEqual(new Set([instanceOf(before)]));
    expect(await page.locator("button:has-text('Cancel')").count()).toBe(0);
    expect(await stableAnswer(home.webPort)).toBe(before);
  });
});

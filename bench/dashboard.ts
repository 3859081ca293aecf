/**
 * Benchmark: the dashboard's home page (issue 16's targets), measured by the browser.
 *
 *   npm run build && node build/bench/dashboard.js     (BENCH_DASHBOARD_RUNS=N, default 15)
 *
 * A home with 50 running instances (one deploy of examples/hello with 50 process types, as
 * bench/cli-latency.ts makes them) and 500 releases in var/history.jsonl (the real first one,
 * then 499 lines of the same shape appended: the page reads and parses all of them). `sarge
 * serve`'s app runs in this process; chromium (playwright-core) logs in and loads `/` again and
 * again. Each load: first contentful paint and time to first byte from the browser's own
 * performance API. The floor, measured in the same run: the same HTML, CSS and JS saved and
 * served as static files by a bare node:http server, so the ratio is what rendering the page
 * on the server costs over sending bytes. Page weight: every response's body of one load with
 * an empty cache; external requests: any request to another origin. No pass/fail.
 */
import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Browser, Page } from "playwright-core";
import type { HistoryEntry } from "../src/release/history.js";
import { launchBrowser } from "../test/support/chromium.js";
import { logIn, startDashboardServer } from "../test/support/dashboard-server.js";
import { helloArchive } from "./support/apps.js";
import { check } from "./support/cli.js";
import { onCleanup } from "./support/cleanup.js";
import { createBenchHome } from "./support/home.js";
import { fmt, isMain, runStandalone, writeResult, type BenchOutcome } from "./support/report.js";
import { median, round } from "./support/stats.js";

const INSTANCES = 50;
const RELEASES = 500;

interface Load {
  fcpMs: number;
  ttfbMs: number;
  /** The page's Server-Timing entries (status look, state and history read, render), ms by name; none for the static copy. */
  server: Record<string, number>;
}

function typesFor(count: number): string[] {
  return ["web", ...Array.from({ length: count - 1 }, (_, i) => `w${String(i + 1).padStart(2, "0")}`)];
}

function syntheticHistory(first: HistoryEntry, count: number): string {
  const kinds: HistoryEntry["kind"][] = ["deploy", "deploy", "rollback", "config"];
  return Array.from({ length: count }, (_, i) => {
    const release = first.release + 1 + i;
    const startedAt = new Date(Date.parse(first.startedAt) - (count - i) * 60_000).toISOString();
    const entry: HistoryEntry = {
      ...first,
      release,
      kind: kinds[i % kinds.length]!,
      commit: (release * 2654435761).toString(16).padStart(40, "0").slice(-40),
      user: ["ada", "dee", "ci-webhook"][i % 3]!,
      startedAt,
      finishedAt: new Date(Date.parse(startedAt) + 9_000).toISOString(),
      durationMs: 9_000 + (i % 7) * 300,
      outcome: i % 9 === 0 ? "failed" : "success",
      ...(i % 9 === 0 ? { error: "deploy failed at readiness: web-abc123 did not answer on port 21234 within 30s" } : {}),
    };
    return JSON.stringify(entry) + "\n";
  }).join("");
}

async function measureLoads(page: Page, url: string, runs: number): Promise<Load[]> {
  const loads: Load[] = [];
  for (let i = 0; i < runs + 2; i++) {
    await page.goto(url, { waitUntil: "load" });
    const load = await page.evaluate(
      () =>
        new Promise<Load>((resolve) => {
          const read = () => {
            const fcp = performance.getEntriesByName("first-contentful-paint")[0];
            if (!fcp) return void setTimeout(read, 10);
            // the browser's PerformanceNavigationTiming (this file is compiled without the DOM types)
            const nav = (performance.getEntriesByType as unknown as (type: string) => Array<{ responseStart: number; requestStart: number; serverTiming: Array<{ name: string; duration: number }> }>)("navigation")[0]!;
            const server = Object.fromEntries(nav.serverTiming.map((entry) => [entry.name, entry.duration]));
            resolve({ fcpMs: fcp.startTime, ttfbMs: nav.responseStart - nav.requestStart, server });
          };
          read();
        }),
    );
    if (i >= 2) loads.push(load); // the first two warm the server's templates and the browser's cache
  }
  return loads;
}

/** Bytes of every response of one load with an empty cache, and the requests that left the server's origin. */
async function weigh(browser: Browser, url: string, cookies: Parameters<import("playwright-core").BrowserContext["addCookies"]>[0]) {
  const context = await browser.newContext();
  await context.addCookies(cookies);
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const sizes: Array<{ url: string; bytes: number }> = [];
  const external: string[] = [];
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== origin) external.push(request.url());
  });
  page.on("response", (response) => void response.body().then((body) => sizes.push({ url: response.url(), bytes: body.length }), () => undefined));
  await page.goto(url, { waitUntil: "networkidle" });
  const html = await page.content();
  await context.close();
  return { bytes: sizes.reduce((sum, { bytes }) => sum + bytes, 0), responses: sizes, external, html };
}

/** The floor: the same bytes from a static server (no auth, no state read, no rendering). */
async function staticFloor(assets: Map<string, { type: string; body: Buffer }>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const asset = assets.get((request.url ?? "/").split("?")[0]!);
    if (!asset) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": asset.type }).end(asset.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function main(): Promise<BenchOutcome> {
  const runs = Number(process.env.BENCH_DASHBOARD_RUNS ?? 15);
  const home = await createBenchHome({ rangeSize: INSTANCES + 10, keepReleases: 0 });
  await home.startSupervisor();
  const procfile = typesFor(INSTANCES).map((type) => `${type}: python app.py`).join("\n") + "\n";
  check(await home.sarge(["deploy", "-", ...typesFor(INSTANCES)], { input: helloArchive({ Procfile: procfile }), timeoutMs: 300_000 }), `deploy of ${INSTANCES} process types`);
  const { readHistory } = await import("../src/release/history.js");
  appendFileSync(home.paths.history, syntheticHistory(readHistory(home.paths)[0]!, RELEASES - 1));

  const server = await startDashboardServer(home.paths);
  const stopServer = onCleanup("dashboard server", () => server.close());
  const browser = await launchBrowser();
  const stopBrowser = onCleanup("chromium", () => browser.close());
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await logIn(page, server, server.tokens.viewer);
    const dashboard = await measureLoads(page, `${server.url}/`, runs);
    const weight = await weigh(browser, `${server.url}/`, await context.cookies());

    const assets = new Map<string, { type: string; body: Buffer }>([["/", { type: "text/html; charset=utf-8", body: Buffer.from(weight.html) }]]);
    for (const path of ["/static/dashboard.css", "/static/dashboard.js", "/favicon.svg"]) {
      const response = await fetch(`${server.url}${path}`);
      assets.set(path, { type: response.headers.get("content-type") ?? "text/plain", body: Buffer.from(await response.arrayBuffer()) });
    }
    const floor = await staticFloor(assets);
    const floorLoads = await measureLoads(page, floor.url, runs).finally(() => floor.close());

    const fcp = round(median(dashboard.map((load) => load.fcpMs)), 1);
    const ttfb = round(median(dashboard.map((load) => load.ttfbMs)), 1);
    const floorFcp = round(median(floorLoads.map((load) => load.fcpMs)), 1);
    const floorTtfb = round(median(floorLoads.map((load) => load.ttfbMs)), 1);
    const serverMs = Object.fromEntries(["status", "files", "render"].map((name) => [name, round(median(dashboard.map((load) => load.server[name] ?? 0)), 1)]));
    console.log(`  / with ${INSTANCES} instances and ${RELEASES} releases: first contentful paint ${fmt.ms(fcp, 1)} (server's first byte ${fmt.ms(ttfb, 1)}), static copy ${fmt.ms(floorFcp, 1)} (first byte ${fmt.ms(floorTtfb, 1)}); ${weight.bytes} bytes in ${weight.responses.length} responses (the HTML ${weight.html.length} characters), ${weight.external.length} external request(s)`);
    console.log(`  the server's time per load (medians, Server-Timing): status look ${fmt.ms(serverMs.status!, 1)}, state and history read ${fmt.ms(serverMs.files!, 1)}, render ${fmt.ms(serverMs.render!, 1)}`);
    const resultFile = writeResult("dashboard", { instances: INSTANCES, releases: RELEASES, runs, dashboard, floor: floorLoads, fcpMs: fcp, ttfbMs: ttfb, floorFcpMs: floorFcp, floorTtfbMs: floorTtfb, serverMs, weight: { bytes: weight.bytes, responses: weight.responses, external: weight.external } });
    return {
      name: "dashboard",
      resultFile,
      rows: [
        { bench: "7", measure: `dashboard / first contentful paint, ${INSTANCES} instances, ${RELEASES} releases, median of ${runs}`, sarge: fmt.ms(fcp, 1), reference: `static copy ${fmt.ms(floorFcp, 1)}`, ratio: fmt.ratio(fcp / floorFcp), target: "≤ 200 ms" },
        { bench: "7", measure: `dashboard / page weight (${weight.responses.length} responses), external requests`, sarge: `${(weight.bytes / 1024).toFixed(1)} KB, ${weight.external.length} external`, reference: "-", ratio: "-", target: "≤ 100 KB, none" },
      ],
    };
  } finally {
    await stopBrowser();
    await stopServer();
    await home.destroy();
  }
}

if (isMain(import.meta.url)) runStandalone(main);

/**
 * The browser the dashboard tests drive (test/support/chromium.ts).
 * useBrowser() launches one browser per test file; after each test the last
 * page it used is saved as test-artifacts/<file>/<test>.png, and with
 * SARGE_SCREENSHOTS=<folder> documentationShots() writes the docs' images.
 */
import { mkdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";
import { launchBrowser, viewports } from "./chromium.js";

export const artifactsDir = join(packageRoot, "test-artifacts");

export interface BrowserUse {
  /** A fresh context (its own cookies) and page; the last one a test opened or touched is screenshot after it. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /** Marks `page` as the one to screenshot when the test ends. */
  use(page: Page): Page;
}

export function useBrowser(): BrowserUse {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  let last: Page | null = null;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async (context) => {
    const page = last;
    last = null;
    if (page && !page.isClosed()) {
      const dir = join(artifactsDir, basename(context.task.file?.name ?? "unknown", ".test.ts"));
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, `${safeName(context.task.name)}.png`), fullPage: true }).catch(() => undefined);
    }
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async newPage(viewport = viewports.desktop) {
      if (!browser) throw new Error("the browser is launched in beforeAll: open pages from tests and hooks");
      const context = await browser.newContext({ viewport });
      contexts.push(context);
      last = await context.newPage();
      return last;
    },
    use(page) {
      last = page;
      return page;
    },
  };
}

/** The folder SARGE_SCREENSHOTS names (relative to the checkout), or null when the docs' images are not wanted. */
export function screenshotsDir(): string | null {
  const dir = process.env.SARGE_SCREENSHOTS;
  return dir ? resolve(packageRoot, dir) : null;
}

/** Saves `page` at both widths as <dir>/dashboard-<name>-<1280|390>.png when SARGE_SCREENSHOTS is set. */
export async function documentationShots(page: Page, name: string): Promise<void> {
  const dir = screenshotsDir();
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const original = page.viewportSize();
  for (const size of [viewports.desktop, viewports.phone]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: join(dir, `dashboard-${name}-${size.width}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 120);
}

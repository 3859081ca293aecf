/**
 * Debian's chromium driven by playwright-core (Playwright's own browser
 * download is not reachable here), for the dashboard tests and bench/dashboard.ts.
 */
import { chromium, type Browser } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** The two widths the dashboard must read well at: a laptop and a phone. */
export const viewports = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: chromium's sandbox refuses to run as root, which the tests do here
  return chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
}

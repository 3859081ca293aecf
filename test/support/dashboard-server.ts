/**
 * The `sarge serve` app on a test home, in this process, on 127.0.0.1 and a
 * free port, with one token per role for the dashboard tests to log in with.
 */
import type { FastifyInstance } from "fastify";
import type { Page } from "playwright-core";
import { buildServer } from "../../src/serve/app.js";
import { addToken } from "../../src/serve/tokens.js";
import type { HomePaths } from "../../src/home/paths.js";

export interface DashboardServer {
  app: FastifyInstance;
  url: string;
  tokens: { viewer: string; deployer: string; admin: string };
  close(): Promise<void>;
}

export async function startDashboardServer(paths: HomePaths): Promise<DashboardServer> {
  const tokens = {
    viewer: addToken(paths, { name: "vera", role: "viewer" }).secret,
    deployer: addToken(paths, { name: "dee", role: "deployer" }).secret,
    admin: addToken(paths, { name: "ada", role: "admin" }).secret,
  };
  const app = await buildServer({ paths });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, url: address, tokens, close: () => app.close() };
}

/** Logs `page` in with `token` through the login form; resolves on the home page. */
export async function logIn(page: Page, server: DashboardServer, token: string): Promise<void> {
  await page.goto(`${server.url}/login`);
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(`${server.url}/`), page.click("button.primary")]);
}

/**
 * `sarge serve` on a test home, as a real process on a free loopback port,
 * and the tokens the matrix test (test/e2e/serve-matrix.test.ts) uses: one per
 * role plus expired and revoked ones. `api()` is a fetch that returns the
 * status, the parsed JSON body and the headers.
 */
import { expect } from "vitest";
import type { SargeProcess } from "./cli.js";
import type { TestHome } from "./home.js";
import { freePortBlock } from "./ports.js";
import { waitFor } from "./wait.js";

export interface ServeHandle {
  url: string;
  port: number;
  process: SargeProcess;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function startServe(home: TestHome, port?: number): Promise<ServeHandle> {
  const listen = port ?? (await freePortBlock(1));
  const serve = home.spawn(["serve", "--listen", `127.0.0.1:${listen}`], { timeoutMs: 30 * 60_000 });
  await serve.waitFor("listening on", 60_000);
  const url = `http://127.0.0.1:${listen}`;
  return {
    url,
    port: listen,
    process: serve,
    async stop() {
      if (serve.result) return;
      serve.signal("SIGTERM");
      await serve.done;
    },
  };
}

export type Credential = "none" | "bad" | "expired" | "revoked" | "viewer" | "deployer" | "admin";
export const credentials: Credential[] = ["none", "bad", "expired", "revoked", "viewer", "deployer", "admin"];

/** The Authorization header value for each credential (none: no header). */
export type TokenSet = Record<Credential, string | null>;

/** Makes a viewer, a deployer and an admin token, one that has expired and one that was revoked, with `sarge token`. */
export async function makeTokens(home: TestHome): Promise<TokenSet> {
  const add = async (name: string, role: string, ...more: string[]): Promise<string> => {
    const made = await home.sarge(["token", "add", name, "--role", role, ...more]);
    expect(made.code, made.stderr).toBe(0);
    return made.stdout.trim();
  };
  const tokens: TokenSet = {
    none: null,
    bad: "sarge_notatokenthatexists",
    viewer: await add("ann-viewer", "viewer"),
    deployer: await add("bob-deployer", "deployer"),
    admin: await add("cid-admin", "admin"),
    expired: await add("old-expired", "admin", "--expires", "1ms"),
    revoked: await add("eve-revoked", "admin"),
  };
  const revoked = await home.sarge(["token", "revoke", "eve-revoked"]);
  expect(revoked.code, revoked.stderr).toBe(0);
  return tokens;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

export async function api(url: string, token: string | null, init: RequestInit = {}): Promise<ApiAnswer> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (an SSE stream, a log): the text is the body
  }
  return { status: response.status, body, text, headers: response.headers };
}

/** Waits until `url`/healthz answers (a server restarted by its supervisor). */
export async function waitForServe(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok, `${url}/healthz to answer`, timeoutMs);
}

export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Reads a Server-Sent Events stream until `until(events)` says enough (or the
 * server ends it), then closes the connection; returns the events so far.
 */
export async function readEvents(url: string, token: string | null, options: { lastEventId?: string; until?: (events: SseEvent[]) => boolean; timeoutMs?: number } = {}): Promise<SseEvent[]> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), options.timeoutMs ?? 60_000);
  const headers: Record<string, string> = { accept: "text/event-stream" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  const events: SseEvent[] = [];
  try {
    const response = await fetch(url, { headers, signal: stop.signal });
    if (response.status !== 200) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseEvent(block);
        if (event) events.push(event);
      }
      if (options.until?.(events)) break;
    }
  } catch (error) {
    if (!stop.signal.aborted || options.until === undefined) throw error;
    throw new Error(`timed out reading ${url}; events so far: ${JSON.stringify(events)}`);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
  return events;
}

function parseEvent(block: string): SseEvent | null {
  const event: SseEvent = { event: "message", id: null, data: "" };
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return null;
  event.data = data.join("\n");
  return event;
}

/** The text of the `log` events, in order. */
export function logText(events: SseEvent[]): string {
  return events.filter((event) => event.event === "log").map((event) => JSON.parse(event.data) as string).join("");
}

import { describe, expect, it } from "vitest";
import { SargeError } from "../../../src/util/errors.js";
import { homePaths } from "../../../src/home/paths.js";
import { renderHaproxyConfig } from "../../../src/haproxy/render.js";
import { afterSwitch, emptyRoute } from "../../../src/haproxy/routes.js";
import type { ListenRoute } from "../../../src/haproxy/types.js";

const paths = homePaths("/srv/app");

const web: ListenRoute = { proc: "web", bind: { host: "127.0.0.1", port: 5000 }, blue: 5011, green: 5012, active: "green" };
const worker: ListenRoute = emptyRoute("worker", { host: "127.0.0.1", port: 5100 });

/** The config as blocks: section header -> its directive lines. */
function sections(text: string): { header: string; lines: string[] }[] {
  const out: { header: string; lines: string[] }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trimEnd();
    if (line.trim() === "") continue;
    if (/^\S/.test(line)) out.push({ header: line, lines: [] });
    else out.at(-1)!.lines.push(line.trim());
  }
  return out;
}

function refusal(routes: ListenRoute[], admin = paths.haproxyAdminSocket): SargeError {
  try {
    renderHaproxyConfig({ paths: { haproxyAdminSocket: admin }, routes });
  } catch (error) {
    expect(error).toBeInstanceOf(SargeError);
    return error as SargeError;
  }
  throw new Error("render accepted bad input");
}

describe("renderHaproxyConfig", () => {
  const text = renderHaproxyConfig({ paths, routes: [web, worker] });
  const blocks = sections(text);

  it("writes global, defaults and one listen block per process type, in order", () => {
    expect(blocks.map((b) => b.header)).toEqual(["global", "defaults", "listen web", "listen worker"]);
  });

  it("runs master-worker with an admin stats socket at the home's path, hard-stop-after and noreuseport", () => {
    const global = blocks[0]!.lines;
    expect(global).toContain("master-worker");
    expect(global).toContain("stats socket /srv/app/var/run/haproxy-admin.sock mode 600 level admin");
    expect(global).toContain("hard-stop-after 60s");
    expect(global).toContain("noreuseport");
    expect(text).not.toMatch(/server-state-file|load-server-state/);
  });

  it("uses http mode with idle-close-on-response and finite timeouts", () => {
    const defaults = blocks[1]!.lines;
    expect(defaults).toContain("mode http");
    expect(defaults).toContain("option idle-close-on-response");
    for (const t of ["connect", "client", "server", "http-request", "http-keep-alive"]) {
      expect(defaults.some((l) => l.startsWith(`timeout ${t} `))).toBe(true);
    }
  });

  it("binds each listen on its stable address with a blue and a green server; only the active slot is enabled", () => {
    expect(blocks[2]!.lines).toEqual([
      "bind 127.0.0.1:5000",
      "server blue 127.0.0.1:5011 disabled",
      "server green 127.0.0.1:5012",
    ]);
  });

  it("gives empty slots a placeholder address, in maintenance", () => {
    expect(blocks[3]!.lines).toEqual([
      "bind 127.0.0.1:5100",
      "server blue 127.0.0.1:1 disabled",
      "server green 127.0.0.1:1 disabled",
    ]);
  });

  it("has no health checks: the pipeline probes the new port before switching", () => {
    expect(text).not.toMatch(/\bcheck\b|httpchk/);
  });

  it("renders the post-switch route: new slot active, old slot kept in maintenance", () => {
    const next = afterSwitch(web, "blue", 5013);
    expect(sections(renderHaproxyConfig({ paths, routes: [next] }))[2]!.lines).toEqual([
      "bind 127.0.0.1:5000",
      "server blue 127.0.0.1:5013",
      "server green 127.0.0.1:5012 disabled",
    ]);
  });

  it("renders no listen block without routes", () => {
    expect(sections(renderHaproxyConfig({ paths, routes: [] })).map((b) => b.header)).toEqual(["global", "defaults"]);
  });

  it("refuses input HAProxy could not use, naming the entry", () => {
    expect(refusal([{ ...web, active: "blue", blue: null }]).message).toMatch(/"web" has blue active but no port/);
    expect(refusal([{ ...web, proc: "web app" }]).message).toMatch(/not a valid process type name/);
    expect(refusal([{ ...web, green: 70000 }]).message).toMatch(/invalid green port 70000/);
    expect(refusal([{ ...web, bind: { host: "127.0.0.1", port: 0 } }]).message).toMatch(/invalid address/);
    expect(refusal([web, { ...worker, bind: web.bind }]).message).toMatch(/"web" and "worker" both use the stable address 127.0.0.1:5000/);
    expect(refusal([web, { ...web }]).message).toMatch(/listed twice/);
  });

  it("refuses socket paths HAProxy or the kernel cannot take", () => {
    expect(refusal([web], `/${"x".repeat(120)}/haproxy-admin.sock`).message).toMatch(/too long for a unix socket/);
    expect(refusal([web], "/srv/my app/var/run/haproxy-admin.sock").message).toMatch(/blank/);
  });
});

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { afterAll, describe, expect, it } from "vitest";
import { SargeError } from "../../../src/util/errors.js";
import { homePaths } from "../../../src/home/paths.js";
import { resolveHaproxyBin } from "../../../src/haproxy/binary.js";
import { assertBindsFree } from "../../../src/haproxy/ports.js";
import { renderHaproxyConfig } from "../../../src/haproxy/render.js";
import { emptyRoute } from "../../../src/haproxy/routes.js";
import { prepareHaproxyCheck, writeHaproxyConfig } from "../../../src/haproxy/write-config.js";

const root = mkdtempSync(join(tmpdir(), "sarge-haproxy-config-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function refusal(promise: Promise<unknown>): Promise<SargeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SargeError);
    return error as SargeError;
  }
  throw new Error("accepted");
}

describe("writeHaproxyConfig", () => {
  const paths = homePaths(join(root, "home"));
  const good = renderHaproxyConfig({
    paths,
    routes: [{ ...emptyRoute("web", { host: "127.0.0.1", port: 5000 }), blue: 5011, active: "blue" }],
  });

  it("validates with haproxy -c and puts the file in place, leaving no temp file", async () => {
    const check = await writeHaproxyConfig(paths, good, "haproxy");
    expect(check.warnings).toEqual([]);
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(good);
    expect(readdirSync(join(paths.etc, "haproxy"))).toEqual(["haproxy.cfg"]);
    expect(existsSync(paths.run)).toBe(true);
  });

  it("accepts a config HAProxy only warns about, returning its [WARNING] lines", async () => {
    const warned = good.replace(/^ *timeout client .*\n/m, "");
    expect(warned).not.toBe(good);
    const check = await writeHaproxyConfig(paths, warned, "haproxy");
    expect(check.warnings).toEqual([expect.stringMatching(/^\[WARNING\].*missing timeouts for proxy 'web'/)]);
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(warned);
    await writeHaproxyConfig(paths, good, "haproxy");
  });

  it("refuses an invalid config with HAProxy's ALERT text in the message and keeps the old file", async () => {
    const bad = good.replace("mode http", "mode http\n    bogus-keyword 12");
    const error = await refusal(writeHaproxyConfig(paths, bad, "haproxy"));
    expect(error.message).toMatch(/^HAProxy refused the configuration: \[ALERT\]/);
    expect(error.message).toContain("unknown keyword 'bogus-keyword'");
    expect(error.detail).toContain("-c -f");
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(good);
    expect(readdirSync(join(paths.etc, "haproxy"))).toEqual(["haproxy.cfg"]);
  });

  it("refuses a server line HAProxy cannot parse", async () => {
    const bad = good.replace("server green 127.0.0.1:1 disabled", "server green 127.0.0.1:notaport disabled");
    const error = await refusal(writeHaproxyConfig(paths, bad, "haproxy"));
    expect(error.message).toContain("[ALERT]");
    expect(error.message).toContain("green");
  });
});

describe("prepareHaproxyCheck", () => {
  const paths = homePaths(join(root, "prepared"));
  const config = (port: number) =>
    renderHaproxyConfig({ paths, routes: [{ ...emptyRoute("web", { host: "127.0.0.1", port: 5000 }), blue: port, active: "blue" }] });
  // haproxy, counting its runs
  const runs = join(root, "haproxy-runs.log");
  const counting = join(root, "counting-haproxy");
  writeFileSync(counting, `#!/bin/sh\necho run >> ${runs}\nexec ${resolveHaproxyBin("haproxy")} "$@"\n`);
  chmodSync(counting, 0o755);
  const runCount = () => (existsSync(runs) ? readFileSync(runs, "utf8").split("\n").filter(Boolean).length : 0);

  it("checks a text ahead of its write, which then installs it without running haproxy -c again; another text is checked by its write", async () => {
    const before = runCount();
    await prepareHaproxyCheck(paths, config(5011), counting);
    expect(runCount()).toBe(before + 1);
    expect(readdirSync(join(paths.etc, "haproxy"))).toEqual([]);
    await writeHaproxyConfig(paths, config(5011), counting);
    expect(runCount()).toBe(before + 1);
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(config(5011));
    await writeHaproxyConfig(paths, config(5012), counting);
    expect(runCount()).toBe(before + 2);
    expect(readdirSync(join(paths.etc, "haproxy"))).toEqual(["haproxy.cfg"]);
  });

  it("keeps a refusal for the write of that text: the write fails with HAProxy's ALERT and the file stays as it was", async () => {
    const installed = readFileSync(paths.haproxyCfg, "utf8");
    const bad = config(5013).replace("mode http", "mode http\n    bogus-keyword 12");
    await prepareHaproxyCheck(paths, bad, counting);
    const before = runCount();
    const error = await refusal(writeHaproxyConfig(paths, bad, counting));
    expect(runCount()).toBe(before);
    expect(error.message).toMatch(/^HAProxy refused the configuration: \[ALERT\].*unknown keyword 'bogus-keyword'/);
    expect(readFileSync(paths.haproxyCfg, "utf8")).toBe(installed);
    expect(readdirSync(join(paths.etc, "haproxy"))).toEqual(["haproxy.cfg"]);
  });
});

describe("resolveHaproxyBin", () => {
  it("finds a bare name in /usr/sbin even when PATH lacks it", () => {
    expect(resolveHaproxyBin("haproxy", { pathEnv: "/usr/bin:/bin" })).toBe("/usr/sbin/haproxy");
  });

  it("prefers PATH, and takes a path with a slash relative to the base folder", () => {
    const dir = join(root, "bin");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "haproxy"), "#!/bin/sh\n");
    chmodSync(join(dir, "haproxy"), 0o755);
    expect(resolveHaproxyBin("haproxy", { pathEnv: dir })).toBe(join(dir, "haproxy"));
    expect(resolveHaproxyBin("bin/haproxy", { baseDir: root })).toBe(join(dir, "haproxy"));
  });

  it("names the binary when it is missing", () => {
    expect(() => resolveHaproxyBin("haproxy-nope", { pathEnv: "/usr/bin" })).toThrow(
      /HAProxy executable "haproxy-nope" \(haproxy_bin\) was not found on PATH or in/,
    );
    expect(() => resolveHaproxyBin("/opt/none/haproxy")).toThrow(/\/opt\/none\/haproxy \(haproxy_bin\) does not exist/);
  });
});

describe("assertBindsFree", () => {
  it("accepts a free address and refuses one in use, naming it and the process type", async () => {
    const port = await getPort({ host: "127.0.0.1" });
    await assertBindsFree([{ proc: "web", bind: { host: "127.0.0.1", port } }]);
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    try {
      const error = await refusal(assertBindsFree([{ proc: "web", bind: { host: "127.0.0.1", port } }]));
      expect(error.message).toBe(`the stable address 127.0.0.1:${port} of "web" is already in use by another program`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

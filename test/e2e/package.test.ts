/**
 * The npm package as a server without registry access gets it: packed once,
 * its file list checked, installed with `--offline` into an empty prefix with
 * an empty cache and the registry unreachable, then `sarge init` and a deploy
 * of examples/hello that answers on the stable port.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packagedFiles, runtimeDependencyDirs } from "../../src/util/package-files.js";
import { packageRoot } from "../../src/util/package-root.js";
import { packageVersion } from "../../src/util/version.js";
import { helloVersion } from "../support/apps.js";
import { runSarge } from "../support/cli.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get } from "../support/load.js";

const run = promisify(execFile);

/** npm with an empty cache and a registry nothing listens on: any fetch fails. */
function offlineNpm(work: string): NodeJS.ProcessEnv {
  mkdirSync(join(work, "cache"), { recursive: true });
  writeFileSync(join(work, "npmrc"), "");
  return { ...process.env, npm_config_cache: join(work, "cache"), npm_config_registry: "http://127.0.0.1:1/", npm_config_userconfig: join(work, "npmrc") };
}

describe("the npm package", () => {
  const work = mkdtempSync(join(tmpdir(), "sarge-pkg-"));
  const prefix = join(work, "prefix");
  const version = packageVersion(packageRoot);
  const tarball = join(work, `sarge-${version}.tgz`);
  let files: string[] = [];
  let home: TestHome | undefined;

  beforeAll(async () => {
    await run("npm", ["pack", "--silent", "--pack-destination", work], { cwd: packageRoot, env: offlineNpm(work) });
    files = (await run("tar", ["-tzf", tarball], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim().split("\n").map((path) => path.replace(/^package\//, ""));
  }, 600_000);
  afterAll(async () => {
    if (home) expect(await home.destroy()).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it("holds sarge's built code, templates and runtime dependencies; no tests, benchmarks, sources or source maps", () => {
    const own = files.filter((path) => !path.startsWith("node_modules/"));
    expect(own.sort()).toEqual([...packagedFiles(packageRoot), "README.md", "package.json"].sort());
    expect(own.filter((path) => /(^|\/)(test|bench)\/|\.map$|\.ts$/.test(path))).toEqual([]);
    const bundled = files.filter((path) => /^node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(path)).map((path) => path.replace(/\/package\.json$/, ""));
    expect(bundled.sort()).toEqual(runtimeDependencyDirs(packageRoot).filter((dir) => !dir.includes("/node_modules/")));
  });

  it("installs offline into an empty prefix; the home it makes runs on its own copy and deploys examples/hello", async () => {
    await run("npm", ["install", "--global", "--offline", "--no-audit", "--no-fund", "--prefix", prefix, tarball], { cwd: work, env: offlineNpm(join(work, "install")) });
    const installed = join(prefix, "bin", "sarge");
    const shown = await runSarge(["--version"], { bin: installed });
    expect([shown.code, shown.stdout]).toEqual([0, `sarge ${version}\n`]);

    home = await createTestHome({ sarge: installed });
    rmSync(prefix, { recursive: true }); // the home needs nothing of the installed package any more
    const wrapper = { bin: join(home.paths.bin, "sarge") };
    await home.startSupervisor();
    const deploy = await runSarge(["deploy", "-", "web"], { ...wrapper, input: helloVersion("v1") });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(await get(home.webPort)).toMatch(/^hello sarge! -- greetings from sarge \(v1, web-/);
    const listed = await runSarge(["version", "--json"], wrapper);
    expect(JSON.parse(listed.stdout)).toEqual({ sarge_version: version });
  });
});

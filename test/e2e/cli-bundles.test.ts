/**
 * bin/sarge runs the bundled commands (bundledCommands: list, status, deploy, bundle, supervisord) from one CommonJS file each
 * (build/cli/, written by scripts/bundle-cli.ts): a bundle must hold all it
 * needs of sarge, and make the same program the ES modules make.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledCommands } from "../../src/cli/launch.js";
import { packageRoot } from "../../src/util/package-root.js";
import { runSarge } from "../support/cli.js";

describe("the bundled commands", () => {
  const work = mkdtempSync(join(tmpdir(), "sarge-bundles-"));
  const home = join(work, "home");
  // the package without build/src: whatever a bundled command loads must be in its bundle
  const withoutModules = join(work, "package");
  const modulesBin = join(work, "modules.mjs");

  beforeAll(async () => {
    mkdirSync(join(withoutModules, "build"), { recursive: true });
    cpSync(join(packageRoot, "bin"), join(withoutModules, "bin"), { recursive: true });
    cpSync(join(packageRoot, "build", "cli"), join(withoutModules, "build", "cli"), { recursive: true });
    cpSync(join(packageRoot, "package.json"), join(withoutModules, "package.json"));
    symlinkSync(join(packageRoot, "node_modules"), join(withoutModules, "node_modules"));
    writeFileSync(
      modulesBin,
      `#!/usr/bin/env node\nconst cli = await import(${JSON.stringify(join(packageRoot, "build", "src", "cli", "main.js"))});\nawait cli.main(process.argv);\nprocess.exit(process.exitCode ?? 0);\n`,
    );
    chmodSync(modulesBin, 0o755);
    expect((await runSarge(["init", home])).code).toBe(0);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("run without build/src, where an unbundled command cannot start", async () => {
    const bin = join(withoutModules, "bin", "sarge");
    const list = await runSarge(["--home", home, "list", "--json"], { bin });
    expect(list.stderr).toContain("sarge: supervisor not running");
    expect(list.code).toBe(3);
    expect(JSON.parse(list.stdout)).toEqual([]);
    const status = await runSarge(["--home", home, "status", "--json"], { bin });
    expect(status.code).toBe(3);
    expect(JSON.parse(status.stdout)).toMatchObject([{ proc: "web", active: null }]);
    const deploy = await runSarge(["--home", home, "deploy", "-", "web"], { bin, input: "not a tar archive" });
    expect(deploy.stderr).toContain(`sarge: supervisor is not running; start it with ${home}/bin/supervisord`);
    expect(deploy.code).toBe(3);
    const history = await runSarge(["--home", home, "history"], { bin });
    expect(history.stderr).toContain("Cannot find module");
    expect(history.code).not.toBe(0);
  });

  it("print the help and the errors the ES modules print", async () => {
    for (const command of bundledCommands) {
      for (const args of [[command, "--help"], [command, "--no-such-option"]]) {
        const [bundled, modules] = await Promise.all([runSarge(args), runSarge(args, { bin: modulesBin })]);
        expect(bundled, args.join(" ")).toEqual(modules);
      }
    }
  });

  it("share the config cache with the ES modules: neither parses etc/sarge.yaml again after the other", async () => {
    const cacheFile = join(home, "var", "run", "config-cache.json");
    rmSync(cacheFile, { force: true });
    expect((await runSarge(["--home", home, "list"])).stdout).toContain("INSTANCE");
    const written = statSync(cacheFile).ino;
    expect((await runSarge(["--home", home, "list"], { bin: modulesBin })).stdout).toContain("INSTANCE");
    expect((await runSarge(["--home", home, "history"])).code).toBe(0);
    expect((await runSarge(["--home", home, "status"])).stdout).toContain("PROC");
    expect(statSync(cacheFile).ino).toBe(written);
  });

  it("in a checkout whose bundles are older than build/src (tsc run alone), the modules run the command, never the older bundle", async () => {
    const checkout = join(work, "checkout");
    mkdirSync(join(checkout, "src"), { recursive: true });
    cpSync(join(packageRoot, "bin"), join(checkout, "bin"), { recursive: true });
    cpSync(join(packageRoot, "build", "cli"), join(checkout, "build", "cli"), { recursive: true });
    symlinkSync(join(packageRoot, "build", "src"), join(checkout, "build", "src"));
    cpSync(join(packageRoot, "package.json"), join(checkout, "package.json"));
    symlinkSync(join(packageRoot, "node_modules"), join(checkout, "node_modules"));
    writeFileSync(join(checkout, "build", "cli", "list.cjs"), `throw new Error("the older bundle ran");\n`);
    const launcher = join(checkout, "build", "cli", "sarge.cjs");
    const bin = join(checkout, "bin", "sarge");
    const modulesBuilt = statSync(join(packageRoot, "build", "src", "cli", "launch.js")).mtime;

    utimesSync(launcher, modulesBuilt, new Date(modulesBuilt.getTime() - 60_000));
    const stale = await runSarge(["--home", home, "list", "--json"], { bin });
    expect(stale.stderr).toContain("sarge: supervisor not running");
    expect(JSON.parse(stale.stdout)).toEqual([]);

    utimesSync(launcher, modulesBuilt, new Date(modulesBuilt.getTime() + 60_000));
    const current = await runSarge(["--home", home, "list", "--json"], { bin });
    expect(current.stderr).toContain("the older bundle ran");
  });

  it("bin/sarge fails with 13 and says so when a command stops before it finished, never exiting 0", async () => {
    // a launcher whose command never settles and leaves nothing to wait for: what a bug in a command would do
    const stub = join(work, "stub");
    mkdirSync(join(stub, "build", "cli"), { recursive: true });
    cpSync(join(packageRoot, "bin"), join(stub, "bin"), { recursive: true });
    writeFileSync(join(stub, "build", "cli", "sarge.cjs"), "exports.launch = () => new Promise(() => {});\n");
    const result = await runSarge(["list"], { bin: join(stub, "bin", "sarge") });
    expect(result.stderr).toBe("sarge: internal error: the command stopped before it finished\n");
    expect(result.code).toBe(13);
  });
});

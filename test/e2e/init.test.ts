import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";
import { sargeVersion } from "../../src/util/version.js";
import { runSarge, sargeBin } from "../support/cli.js";
import { letOtherUsersReachSarge } from "../support/other-users.js";
import { processesUsing } from "../support/processes.js";

describe("sarge init and the home it creates", () => {
  letOtherUsersReachSarge();
  const work = mkdtempSync(join(tmpdir(), "sarge-init-"));
  const home = join(work, "myapp");
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("creates the home layout with a random port base", async () => {
    const result = await runSarge(["init", home]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Created sarge home ${home}`);
    expect(result.stdout).toContain(`nohup ${home}/bin/supervisord`);
    expect(result.stdout).toContain(`sudo cp ${home}/etc/sarge-myapp.service /etc/systemd/system/sarge-myapp.service`);
    for (const dir of ["bin", "dist", "etc", "etc/haproxy", "deploy", "var/envs", "var/log", "var/run"]) {
      expect(statSync(join(home, dir)).isDirectory(), dir).toBe(true);
    }
    expect(statSync(join(home, "var/run")).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "etc/sarge.yaml")).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, "bin/sarge")).mode & 0o111).toBe(0o111);
    const config = readFileSync(join(home, "etc/sarge.yaml"), "utf8");
    const [, base] = /web: 127\.0\.0\.1:(\d+)/.exec(config)!;
    expect(config).toContain(`port_range: [${Number(base) + 10}, ${Number(base) + 99}]`);
    expect(readFileSync(join(home, "etc/sarge-myapp.service"), "utf8")).toContain(`ExecStart=${home}/bin/supervisord`);
  });

  it("changes nothing the user edited when run again, and says so", async () => {
    const config = join(home, "etc/sarge.yaml");
    writeFileSync(config, readFileSync(config, "utf8") + "# mine\n");
    const result = await runSarge(["init", home]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Checked sarge home ${home}`);
    expect(result.stdout).toContain("kept    etc/sarge.yaml (already there; left as it is)");
    expect(readFileSync(config, "utf8")).toMatch(/# mine\n$/);
  });

  it("says how to start the supervisor when it is not running", async () => {
    for (const args of [["stop", "web-abcdef"], ["deploy", "-", "web"]]) {
      const result = await runSarge(["--home", home, ...args], { input: "x" });
      expect(result.stderr, args.join(" ")).toBe(`sarge: supervisor is not running; start it with ${home}/bin/supervisord\n`);
      expect(result.code).toBe(3);
    }
    const down = `sarge: supervisor not running: this is what var/state.json says, process states unknown; start it with ${home}/bin/supervisord\n`;
    const list = await runSarge(["--home", home, "list"]);
    expect([list.code, list.stdout, list.stderr]).toEqual([3, "INSTANCE  PROC  STATE  PROCESS  PORT  RELEASE  COMMIT  AGE\n", down]);
    const status = await runSarge(["--home", home, "status", "--json"]);
    expect([status.code, JSON.parse(status.stdout), status.stderr]).toEqual([3, [{ sarge_version: sargeVersion(), proc: "web", active: null, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/), port: null, process: null, restarts: 0, healthy: null, problem: null, lastLines: [], deployLock: null }], down]);
  });

  it("config set while the supervisor is not running says the change is saved but not applied", async () => {
    const result = await runSarge(["--home", home, "config", "set", "GREETING=hi"]);
    expect([result.code, result.stdout, result.stderr]).toEqual([
      3,
      `set GREETING in ${home}/etc/sarge.yaml\n`,
      `sarge: the change to GREETING is saved in ${home}/etc/sarge.yaml but not applied: supervisor is not running; start it with ${home}/bin/supervisord; the next deploy or config change applies it\n`,
    ]);
    expect(readFileSync(join(home, "etc/sarge.yaml"), "utf8")).toContain("GREETING: hi");
    expect((await runSarge(["--home", home, "config", "unset", "GREETING", "--no-restart"])).code).toBe(0);
  });

  it("status --wait waits until the supervisor answers: exit 3 and what state.json says when it never does", async () => {
    const began = Date.now();
    const result = await runSarge(["--home", home, "status", "--wait=0.5"]);
    expect([result.code, result.stderr]).toEqual([3, `sarge: supervisor not running: this is what var/state.json says, process states unknown; start it with ${home}/bin/supervisord\n`]);
    expect(Date.now() - began).toBeGreaterThanOrEqual(500);
    const bad = await runSarge(["--home", home, "status", "--wait", "soon"]);
    expect([bad.code, bad.stderr]).toEqual([2, 'sarge: --wait: expected a number of seconds, got "soon"\n']);
  });

  it("runs the supervisor from bin/supervisord; bin/sarge status --wait waits for it; list --json prints JSON", async () => {
    const supervisor = spawn(join(home, "bin/supervisord"), [], { stdio: "ignore" });
    const wrapper = { bin: join(home, "bin/sarge"), cwd: "/" };
    try {
      const status = await runSarge(["status", "--wait"], wrapper);
      expect([status.code, status.stderr]).toEqual([0, ""]);
      expect(status.stdout).toMatch(/^PROC +ACTIVE +ADDRESS +PORT +PROCESS +RESTARTS +HEALTH\nweb +- +127\.0\.0\.1:\d+ /);
      const list = await runSarge(["list", "--json"], wrapper);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual([]);
    } finally {
      supervisor.kill("SIGTERM");
      await new Promise((resolve) => supervisor.once("exit", resolve));
    }
    expect(processesUsing(home)).toEqual([]);
  });

  it("as a user who may not write there: a clear message, no stack trace", () => {
    const parent = join(work, "root-owned");
    mkdirSync(parent, { mode: 0o755 });
    chmodSync(work, 0o755);
    const result = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, sargeBin, "init", join(parent, "myapp")], { encoding: "utf8", cwd: "/" });
    expect([result.status, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toBe(
      `sarge: cannot create the home ${join(parent, "myapp")}: user nobody may not write in ${parent} (EACCES)\n` +
        `  Create it as root and give it to this user (sudo mkdir -p ${join(parent, "myapp")} && sudo chown nobody ${join(parent, "myapp")}), or choose a folder this user owns.\n`,
    );
  });

  it("refuses an unknown supervisor backend", async () => {
    const result = await runSarge(["init", join(work, "other"), "--supervisor", "systemd"]);
    expect(result.stderr).toBe('sarge: --supervisor: expected builtin or supervisord, got "systemd"\n');
    expect(result.code).toBe(2);
  });

  it("install.ts does the same as sarge init", async () => {
    const output = execFileSync(process.execPath, [join(packageRoot, "build", "install.js"), join(work, "installed")], { encoding: "utf8" });
    expect(output).toContain(`Created sarge home ${join(work, "installed")}`);
    expect(existsSync(join(work, "installed", "bin", "supervisord"))).toBe(true);
  });
});

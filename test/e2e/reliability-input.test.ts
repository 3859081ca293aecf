import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readState } from "../../src/instance/state.js";
import { helloArchive, helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf, plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { processesUsing } from "../support/processes.js";

/**
 * Hostile or broken input: archives over the configured caps, process type
 * and instance names that try shell or path injection, a corrupted state
 * file. Each is refused with a message that says what and why, nothing of it
 * runs, and the serving version answers every request meanwhile.
 */
describe("hostile input, caps and a corrupted state file", () => {
  const home = useDeployedHome({
    extraConfig: ["archive:", "  max_bytes: 64KB", "  max_entries: 20", "  max_name_length: 100"].join("\n"),
    app: helloVersion("stable"),
  });
  let serving: string;
  const marker = () => join(home.root, "..", "pwned");
  beforeAll(async () => {
    serving = await get(home.webPort);
  });

  /** Run `args` under load; it must fail (with `code`, or any non-zero code for null) with `message` on stderr and leave everything as it was. */
  async function expectRefused(args: string[], input: Buffer | string, code: number | null, message: string | RegExp) {
    const before = readdirSync(home.paths.deploy);
    const load = startLoad(home.webPort, { workers: 2 });
    const result = await home.sarge(args, { input });
    const samples = await load.stop();
    console.log(`${args.join(" ")}: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    if (code === null) expect(result.code, result.stderr).not.toBe(0);
    else expect(result.code, result.stderr).toBe(code);
    if (typeof message === "string") expect(plainLines(result.stderr)).toContain(message);
    else expect(plainLines(result.stderr)).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(failuresOf(samples)).toEqual([]);
    expect(await get(home.webPort)).toBe(serving);
    expect(readdirSync(home.paths.deploy)).toEqual(before);
    expect(existsSync(marker())).toBe(false);
  }

  describe("archive caps from etc/sarge.yaml", () => {
    it("archive.max_entries", async () => {
      const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`static-${i}.txt`, "x"]));
      await expectRefused(["deploy", "-", "web"], helloArchive(files), 1, /^sarge: deploy failed at unpack: archive has more than 20 entries, the cap set by archive\.max_entries; refused at entry "\.\/[^"]+"\n/m);
      await expectNoLeftovers(home);
    });

    it("archive.max_bytes", async () => {
      await expectRefused(
        ["deploy", "-", "web"],
        helloArchive({ "big.bin": "x".repeat(100 * 1024) }),
        1,
        /^sarge: deploy failed at unpack: archive unpacks to more than 65536 bytes, the cap set by archive\.max_bytes; refused at entry "\.\/big\.bin" \(102400 bytes, \d+ unpacked before it\)\n/m,
      );
      await expectNoLeftovers(home);
    });

    it("archive.max_name_length", async () => {
      const long = `${"n".repeat(120)}.txt`;
      await expectRefused(
        ["deploy", "-", "web"],
        helloArchive({ [long]: "x" }),
        1,
        `sarge: deploy failed at unpack: archive entry "./${long}" has a name of 126 bytes, over the cap of 100 set by archive.max_name_length\n`,
      );
      await expectNoLeftovers(home);
    });
  });

  describe("names that try to inject", () => {
    it("a process type like `web;rm -rf` on the command line is refused before anything is read or run", async () => {
      const evil = `web;touch ${marker()}`;
      await expectRefused(["deploy", "-", evil], helloVersion("evil"), 2, `sarge: invalid process type "${evil}": use letters, digits, _ and - only\n`);
      await expectRefused(["deploy", "-", "../../etc"], helloVersion("evil"), 2, 'sarge: invalid process type "../../etc": use letters, digits, _ and - only\n');
      await expectRefused(["rollback", "$(touch x)"], "", 2, 'sarge: invalid process type "$(touch x)": use letters, digits, _ and - only\n');
      await expectNoLeftovers(home);
    });

    it("hostile Procfile names are not process types: deploying them is refused, the lines never run", async () => {
      const procfile = ["web: python app.py", `web;touch ${marker()}: touch ${marker()}`, `../evil: touch ${marker()}`, `$(touch ${marker()}): touch ${marker()}`, ""].join("\n");
      await expectRefused(
        ["deploy", "-", "web;touch"],
        helloVersion("evil", { Procfile: procfile }),
        2,
        'sarge: invalid process type "web;touch": use letters, digits, _ and - only\n',
      );
      // a valid type from the same Procfile deploys; the hostile lines are ignored (honcho's grammar) and never run
      const ok = await home.sarge(["deploy", "-", "web"], { input: helloVersion("hostile-procfile", { Procfile: procfile }) });
      expect(ok.code, ok.stderr).toBe(0);
      expect(existsSync(marker())).toBe(false);
      const rollback = await home.sarge(["rollback", "web"]);
      expect(rollback.code, rollback.stderr).toBe(0);
      expect(await get(home.webPort)).toBe(serving);
      await expectNoLeftovers(home);
    });

    it.each([
      ["logs", "../../etc/passwd", 'sarge: "../../etc/passwd" is not an instance id or a process type\n'],
      ["run", `web;touch PWNED`, 'sarge: "web;touch PWNED" is not an instance id or a process type\n'],
      ["destroy", "web-abc123;rm", 'sarge: "web-abc123;rm" is not an instance id or a process type\n'],
      ["destroy", "constructor", 'sarge: no instance "constructor" in this home (see `sarge list`)\n'],
      ["stop", "__proto__", 'sarge: no instance "__proto__" in this home (see `sarge list`)\n'],
      ["logs", "toString", 'sarge: no instance of process type "toString" in this home (see `sarge list`)\n'],
    ])("sarge %s %s is refused", async (command, name, message) => {
      await expectRefused([command, name], "", null, message);
      await expectNoLeftovers(home);
    });
  });

  describe("a corrupted var/state.json", () => {
    it("is reported with the file and the way out, never reset; the serving version is untouched", async () => {
      const good = readFileSync(home.paths.state, "utf8");
      const broken = good.slice(0, Math.floor(good.length / 2));
      writeFileSync(home.paths.state, broken);
      const message =
        `sarge: ${home.paths.state} is corrupted: `;
      const wayOut = `cp ${home.paths.state}.bak ${home.paths.state}`;
      for (const args of [["list"], ["status"], ["deploy", "-", "web"], ["rollback", "web"], ["config", "set", "FOO=bar"]]) {
        const load = startLoad(home.webPort, { workers: 2 });
        const result = await home.sarge(args, { input: args[0] === "deploy" ? helloVersion("blocked") : "" });
        const samples = await load.stop();
        expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(1);
        expect(plainLines(result.stderr), args.join(" ")).toContain(message);
        expect(result.stderr).toContain(wayOut);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        expect(failuresOf(samples)).toEqual([]);
        expect(readFileSync(home.paths.state, "utf8")).toBe(broken);
        expect(await get(home.webPort)).toBe(serving);
      }
      // config set edited sarge.yaml before it found the state broken; put it back
      const unset = await home.sarge(["config", "unset", "--no-restart", "FOO"]);
      expect(unset.code, unset.stderr).toBe(0);
      // the way out the message gives works, and sarge finds everything as it was
      copyFileSync(`${home.paths.state}.bak`, home.paths.state);
      const list = await home.sarge(["list"]);
      expect([list.code, plainLines(list.stderr)]).toEqual([0, ""]);
      expect(readFileSync(home.paths.state, "utf8")).toBe(good);
      expect(await get(home.webPort)).toBe(serving);
      await expectNoLeftovers(home);
    });
  });

  describe("secrets", () => {
    const secret = "s3cr3t-Pa55w0rd-xyzzy";
    const token = "tok-9f8e7d6c5b4a";
    it("files that hold values are 0600, and no command output or log shows a value", async () => {
      const set = await home.sarge(["config", "set", `DATABASE_URL=postgres://app:${secret}@db/app`]);
      expect(set.code, set.stderr).toBe(0);
      // the app's own .env comes world-readable in the archive
      const deploy = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("with-secret", { ".env": `API_TOKEN=${token}\n` }) });
      expect(deploy.code, deploy.stderr).toBe(0);
      const deployed = (JSON.parse(deploy.stdout) as { instances: Array<{ id: string }> }).instances[0]!.id;
      const again = await home.sarge(["config", "set", "LOG_LEVEL=debug"]);
      expect(again.code, again.stderr).toBe(0);
      const copied = Object.values(readState(home.paths).instances).find((instance) => instance.state === "active")!.id;
      for (const id of [deployed, copied]) {
        expect((statSync(join(home.paths.deploy, id, ".env")).mode & 0o777).toString(8), id).toBe("600");
        // nobody else may even enter the folder, so the .env is never readable while it is unpacked
        expect((statSync(join(home.paths.deploy, id)).mode & 0o777).toString(8), id).toBe("700");
      }
      const failed = await home.sarge(["deploy", "-", "web"], { input: helloArchive({ Procfile: "web: exit 3\n" }) });
      expect(failed.code).toBe(1);
      const outputs = [set, deploy, again, failed];
      for (const args of [["list"], ["list", "--json"], ["status"], ["status", "--json"], ["history"], ["history", "--json"], ["config", "list"], ["config", "list", "--json"], ["rollback", "web"]]) {
        const result = await home.sarge(args);
        expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0);
        outputs.push(result);
      }
      for (const output of outputs) expect(output.stdout + output.stderr).not.toMatch(new RegExp(`${secret}|${token}`));
      for (const file of [home.paths.sargeLog, home.paths.history, join(home.paths.log, "supervisord.out"), home.paths.haproxyCfg]) {
        expect(readFileSync(file, "utf8"), file).not.toMatch(new RegExp(`${secret}|${token}`));
      }
      // these do hold values (sarge needs them to start and roll back instances): only their owner may read them
      const holders = [home.paths.config, home.paths.state, `${home.paths.state}.bak`, join(home.paths.run, "supervisor-programs.json")];
      for (const file of holders) expect(readFileSync(file, "utf8"), file).toContain(secret);
      for (const file of [...holders, home.paths.history, home.paths.sargeLog]) {
        expect((statSync(file).mode & 0o777).toString(8), file).toBe("600");
      }
      expect((statSync(home.paths.run).mode & 0o777).toString(8)).toBe("700");
      expect(processesUsing(home.paths.deploy).every((p) => !p.cmdline.includes(secret))).toBe(true);
      await expectNoLeftovers(home);
    });
  });
});

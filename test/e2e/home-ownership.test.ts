import { spawn } from "node:child_process";
import { chmodSync, chownSync, lchownSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { runSarge, sargeBin, type CliResult } from "../support/cli.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get } from "../support/load.js";
import { letOtherUsersReachSarge } from "../support/other-users.js";

// `nobody` stands for the home's owner, an unprivileged user, and `daemon` for another one; these tests run as root
const NOBODY = 65534;
const DAEMON = 1;

function sargeAs(uid: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sargeBin, ...args], { uid, gid: uid, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Every path under `dir` (itself included) whose owner is not `uid`. */
function ownedByOthers(dir: string, uid: number): string[] {
  const stat = lstatSync(dir);
  const mine = stat.uid === uid ? [] : [`${dir} (uid ${stat.uid})`];
  if (!stat.isDirectory()) return mine;
  return [...mine, ...readdirSync(dir).flatMap((name) => ownedByOthers(join(dir, name), uid))];
}

/** A fresh home for one describe block, changed by `prepare`, then its supervisor started; nothing may be left running at the end. */
function runningHome(prepare: (home: TestHome) => void): () => TestHome {
  let home: TestHome | undefined;
  beforeAll(async () => {
    home = await createTestHome();
    prepare(home);
    await home.startSupervisor();
  });
  afterAll(async () => expect(await home!.destroy()).toEqual([]));
  return () => home!;
}

describe("a home's files are written only as its owner, never through links, never in a folder others may write", () => {
  letOtherUsersReachSarge();
  describe("links and modes", () => {
    const home = runningHome(() => undefined);

    for (const which of ["sargeLog", "history"] as const) {
      it(`refuses to deploy when ${which === "sargeLog" ? "var/log/sarge.log" : "var/history.jsonl"} is a symbolic link, and never writes through it`, async () => {
        const link = home().paths[which];
        const target = join(home().root, "..", `root-only-${which}`);
        writeFileSync(target, "root's own\n", { mode: 0o600 });
        rmSync(link, { force: true });
        symlinkSync(target, link);
        const deploy = await home().sarge(["deploy", "-", "web"], { input: helloVersion("v1") });
        expect([deploy.code, deploy.stderr]).toEqual([
          1,
          `sarge: ${link} is a symbolic link: sarge never writes through a link inside a home; remove it (sarge creates the file again)\n`,
        ]);
        expect(readFileSync(target, "utf8")).toBe("root's own\n");
        rmSync(link);
      });
    }

    it("refuses a home, or a folder of it, that others may write to, naming it and the fix", async () => {
      for (const [dir, mode] of [
        [home().root, 0o757],
        [home().paths.etc, 0o775],
        [dirname(home().paths.state), 0o775],
      ] as const) {
        chmodSync(dir, mode);
        const list = await home().sarge(["list"]);
        chmodSync(dir, 0o755);
        const who = mode & 0o002 ? "other users" : "its group";
        expect([list.code, list.stderr]).toEqual([
          1,
          `sarge: ${dir} is writable by ${who} (mode 0${mode.toString(8)}), who could change what sarge runs and writes there; make it writable by its owner only: chmod go-w ${dir}\n`,
        ]);
      }
      expect((await home().sarge(["list"])).code).toBe(0);
    });

    it("sarge init refuses a folder others may write to", async () => {
      const open = mkdtempSync(join(tmpdir(), "sarge-open-"));
      chmodSync(open, 0o777);
      const init = await runSarge(["init", open]);
      rmSync(open, { recursive: true, force: true });
      expect([init.code, init.stderr]).toEqual([
        1,
        `sarge: ${open} is writable by other users (mode 0777), who could change what sarge runs and writes there; make it writable by its owner only: chmod go-w ${open}\n`,
      ]);
    });
  });

  describe("a home owned by an unprivileged user", () => {
    // root starts the supervisor (runningHome) on the owner's home: it acts as the owner too
    const home = runningHome((fresh) => {
      // the temp folder above the home is 0700: let its owner reach it
      chmodSync(join(fresh.root, ".."), 0o755);
      for (const path of [fresh.root, ...readdirSync(fresh.root, { recursive: true, encoding: "utf8" }).map((name) => join(fresh.root, name))]) {
        lchownSync(path, NOBODY, NOBODY); // opt/sarge-<version> is a link to the copy test/support/home.ts shares
      }
    });

    it("root acts as the owner: every file a deploy creates belongs to the owner", async () => {
      const deploy = await home().sarge(["deploy", "-", "web"], { input: helloVersion("v1") });
      expect(deploy.code, deploy.stderr).toBe(0);
      expect(await get(home().webPort)).toMatch(/greetings from sarge \(v1/);
      // supervisord.out is the test harness's own file (it opens the supervisor's output as root)
      expect(ownedByOthers(home().root, NOBODY).filter((path) => !path.includes("supervisord.out"))).toEqual([]);
    });

    it("another unprivileged user is refused, naming the owner", async () => {
      const list = await sargeAs(DAEMON, ["--home", home().root, "list"]);
      expect([list.code, list.stderr]).toEqual([
        1,
        `sarge: ${home().root} belongs to nobody, and you are daemon: run sarge as nobody (for example with sudo -u nobody), or as root, which acts as the home's owner\n`,
      ]);
    });

    it("a state file the owner cannot read is reported as such, never as corrupted", async () => {
      chownSync(home().paths.state, 0, 0);
      const list = await home().sarge(["list"]);
      chownSync(home().paths.state, NOBODY, NOBODY);
      expect(list.code).toBe(1);
      expect(list.stderr).toContain(`sarge: ${home().paths.state} cannot be read: it belongs to root, not to the home's owner nobody (chown -R nobody ${home().root})`);
      expect(list.stderr).not.toContain("corrupted");
    });
  });
});

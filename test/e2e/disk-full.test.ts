import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { runSarge } from "../support/cli.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get } from "../support/load.js";

/** A home on a 48 MiB tmpfs (init copies sarge into opt/) that a file then fills: every write sarge tries fails with ENOSPC. */
describe("a full disk", () => {
  const mount = mkdtempSync(join(tmpdir(), "sarge-full-"));
  const home = join(mount, "home");
  const files = () => ["etc", "var/run"].flatMap((dir) => readdirSync(join(home, dir)).map((name) => `${dir}/${name}`)).sort();
  beforeAll(async () => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", mount]);
    expect((await runSarge(["init", home])).code).toBe(0);
    try {
      writeFileSync(join(mount, "filler"), Buffer.alloc(64 * 1024 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
  });
  afterAll(() => {
    execFileSync("umount", [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it("config set says the disk is full and that etc/sarge.yaml is unchanged, and leaves no temp file", async () => {
    const before = { files: files(), config: readFileSync(join(home, "etc/sarge.yaml"), "utf8") };
    const result = await runSarge(["--home", home, "config", "set", `BIG=${"x".repeat(8000)}`, "--no-restart"]);
    expect([result.code, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toMatch(new RegExp(`^sarge: config change failed at lock: the disk holding ${home}/var/run is full \\(ENOSPC\\): cannot take the deploy lock; nothing was changed\\n`));
    expect(result.stderr).not.toContain("unexpected error");
    expect({ files: files(), config: readFileSync(join(home, "etc/sarge.yaml"), "utf8") }).toEqual(before);
  });
});

/** A deployed home on a 100 MiB tmpfs whose next release fills it. */
describe("an app that fills the disk", () => {
  const mount = mkdtempSync(join(tmpdir(), "sarge-fills-"));
  let home: TestHome;
  beforeAll(async () => {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=100m", "tmpfs", mount]);
    home = await createTestHome({ parent: mount });
    await home.startSupervisor();
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("one") })).code).toBe(0);
  });
  afterAll(async () => {
    await home.destroy();
    execFileSync("umount", [mount]);
    rmSync(mount, { recursive: true, force: true });
  });

  it("fails the release, says the disk was full and what the undo freed, and keeps serving", async () => {
    const filler = "release: python -c \"open('fill', 'w').write('x' * (120 * 1024 * 1024))\"";
    const result = await home.sarge(["deploy", "-", "web"], { input: helloVersion("two", { Procfile: (old) => old.replace(/release: .*/, filler) }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("OSError: [Errno 28] No space left on device");
    expect(result.stderr).toMatch(new RegExp(`the disk holding ${home.root} was full when the release failed \\(\\d+(\\.\\d)? (B|KB) free\\); the running version keeps serving, and removing the new instances freed \\d+\\.\\d MB`));
    expect(result.stderr).toMatch(/sarge: deploy failed at release: the release command .* exited with code 1/);
    expect(await get(home.webPort)).toContain("(one, ");
  });
});

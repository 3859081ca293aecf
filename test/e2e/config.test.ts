import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { readState } from "../../src/instance/state.js";
import { sargeVersion } from "../../src/util/version.js";
import { pausedLine, plainLines } from "../support/crash.js";

describe("sarge config: env changes as zero-downtime releases", () => {
  const home = useDeployedHome();

  it("lists names only, unless values are asked for", async () => {
    expect((await home.sarge(["config", "list"])).stdout).toBe("MESSAGE\n");
    expect((await home.sarge(["config", "list", "--show-values"])).stdout).toBe("MESSAGE=hello sarge!\n");
    expect(JSON.parse((await home.sarge(["config", "list", "--json"])).stdout)).toEqual({ sarge_version: sargeVersion(), MESSAGE: null });
    expect((await home.sarge(["config", "get", "MESSAGE"])).stdout).toBe("hello sarge!\n");
    const missing = await home.sarge(["config", "get", "NOPE"]);
    expect([missing.code, missing.stderr]).toEqual([1, "sarge: NOPE is not set\n"]);
  });

  it("set under load: 0 failed requests, the new value answers, history has the key name only", async () => {
    const load = startLoad(home.webPort, { workers: 4 });
    const result = await home.sarge(["config", "set", "MESSAGE=bonjour"]);
    await load.answered(20);
    const samples = await load.stop();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^set MESSAGE in .*sarge\.yaml\napplied as release 2: web-[a-z0-9]{6}\n$/);
    expect(samples.filter((sample) => sample.error !== null)).toEqual([]);
    expect(samples.length).toBeGreaterThan(50);
    expect(await get(home.webPort)).toMatch(/^bonjour -- greetings from sarge \(v1, web-/);
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout);
    expect(history.at(-1)).toMatchObject({ kind: "config", outcome: "success", detail: ["MESSAGE"] });
    expect(JSON.stringify(history)).not.toContain("bonjour");
  });

  it("rollback restores the old value, and says etc/sarge.yaml differs", async () => {
    const result = await home.sarge(["rollback", "web"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("etc/sarge.yaml differs in MESSAGE");
    expect(await get(home.webPort)).toMatch(/^hello sarge! -- greetings from sarge/);
  });

  it("unset removes the variable from the running processes", async () => {
    const result = await home.sarge(["config", "unset", "MESSAGE"]);
    expect(result.code, result.stderr).toBe(0);
    expect(await get(home.webPort)).toMatch(/^hello -- greetings from sarge/);
  });

  it("--no-restart only edits the file", async () => {
    const before = await get(home.webPort);
    const result = await home.sarge(["config", "set", "--no-restart", "MESSAGE=later"]);
    expect(result.stdout).toMatch(/^set MESSAGE in .*\n$/);
    expect(await get(home.webPort)).toBe(before);
    expect((await home.sarge(["config", "get", "MESSAGE"])).stdout).toBe("later\n");
  });

  it("set --stdin and --from-file take KEY=VALUE lines, so values stay out of the process list", async () => {
    const fromStdin = await home.sarge(["config", "set", "--no-restart", "--stdin"], { input: "# from a vault\nTOKEN=t0k en\nURL=postgres://a:b@db/x?s=1\n" });
    expect([fromStdin.code, fromStdin.stderr]).toEqual([0, ""]);
    expect(fromStdin.stdout).toMatch(/^set TOKEN, URL in .*sarge\.yaml\n$/);
    const file = join(home.root, "..", "secrets.env");
    writeFileSync(file, "TOKEN=from-file\n", { mode: 0o600 });
    const fromFile = await home.sarge(["config", "set", "--no-restart", "--from-file", file, "OTHER=1"]);
    expect([fromFile.code, fromFile.stderr]).toEqual([0, ""]);
    expect((await home.sarge(["config", "list", "--show-values"])).stdout).toContain("TOKEN=from-file\nURL=postgres://a:b@db/x?s=1\nOTHER=1\n");
    const bad = await home.sarge(["config", "set", "--stdin"], { input: "s3cret-without-key\n" });
    expect([bad.code, bad.stderr]).toEqual([2, "sarge: stdin, line 1 is not KEY=VALUE with KEY of letters, digits and _, not starting with a digit (the line is not shown: it may hold a secret)\n"]);
    const missing = await home.sarge(["config", "set", "--from-file", file + ".nope"]);
    expect([missing.code, missing.stderr]).toEqual([2, `sarge: cannot read ${file}.nope: no such file\n`]);
    const none = await home.sarge(["config", "set", "--stdin"], { input: "# nothing\n" });
    expect([none.code, none.stderr]).toEqual([2, "sarge: config set needs at least one KEY=VALUE\n"]);
    expect((await home.sarge(["config", "unset", "--no-restart", "TOKEN", "URL", "OTHER"])).code).toBe(0);
  });

  it("a value too big for the kernel names the key and the limit, and the running version keeps serving", async () => {
    const before = await get(home.webPort);
    const result = await home.sarge(["config", "set", "--stdin"], { input: `HUGE=${"x".repeat(140_000)}\n` });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "sarge: config change failed at start: HUGE is too big for a process environment: 140006 bytes as KEY=value, and Linux takes at most 131072 (MAX_ARG_STRLEN) for one variable\n",
    );
    expect(await get(home.webPort)).toBe(before);
    expect((await home.sarge(["config", "unset", "--no-restart", "HUGE"])).code).toBe(0);
  });

  it("five concurrent sets of different keys: every key kept, every command's release in history", async () => {
    const keys = ["K1", "K2", "K3", "K4", "K5"];
    const results = await Promise.all(keys.map((key) => home.sarge(["config", "set", `${key}=${key.toLowerCase()}`])));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const listed = (await home.sarge(["config", "list"])).stdout.split("\n");
    expect(listed).toEqual(expect.arrayContaining(keys));
    const history: Array<{ kind: string; outcome: string; detail: string[] }> = JSON.parse((await home.sarge(["history", "--json"])).stdout);
    const configReleases = history.slice(-keys.length);
    expect(configReleases.map((entry) => entry.detail).flat().sort()).toEqual(keys);
    expect(configReleases.every((entry) => entry.kind === "config" && entry.outcome === "success")).toBe(true);
  });

  it("fails at prepare, saying why, when the active instance was destroyed while it waited for the lock", async () => {
    const active = Object.values(readState(home.paths).instances).find((instance) => instance.state === "active")!;
    // the first lock is the edit of etc/sarge.yaml; the second, the release's
    const set = home.spawn(["config", "set", "MESSAGE=too-late"], { env: { SARGE_PAUSE_AT: "lock#2" } });
    await set.waitForStderr(pausedLine("lock"));
    const destroyed = await home.sarge(["destroy", "--force", active.id]);
    expect(destroyed.code, destroyed.stderr).toBe(0);
    set.signal("SIGUSR2");
    const { code } = await set.done;
    expect(code).toBe(1);
    expect(plainLines(set.stderr)).toContain("sarge: config change failed at prepare: web has no active instance any more to copy\n");
    expect(Object.values(readState(home.paths).instances).filter((instance) => instance.state !== "kept")).toEqual([]);
  });
});

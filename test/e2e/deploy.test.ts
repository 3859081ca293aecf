import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveHaproxyBin } from "../../src/haproxy/binary.js";
import { readState } from "../../src/instance/state.js";
import { helloArchive, helloVersion } from "../support/apps.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, instanceOf, now, startLoad } from "../support/load.js";
import { waitFor } from "../support/wait.js";
import { processesUsing } from "../support/processes.js";
import { appWith, buildTar } from "../support/tars.js";

describe.each(["builtin", "supervisord"] as const)("sarge deploy, redeploy and rollback with real HAProxy and Python (%s supervisor)", (supervisor) => {
  const home = useDeployedHome({ supervisor, app: null });

  it("deploys the example app and answers on the stable port", async () => {
    const result = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v1") });
    expect(result.stderr).toContain("now routes to web-");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^deployed release 1: web-[a-z0-9]{6} \(port \d+\) in [\d.]+s\n$/);
    expect(await get(home.webPort)).toMatch(/^hello sarge! -- greetings from sarge \(v1, web-[a-z0-9]{6}\)\n$/);
  });

  it("redeploys a change: the new version answers, the old one is stopped and kept", async () => {
    const before = readState(home.paths);
    const result = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v2") });
    expect(result.code).toBe(0);
    const deployed = JSON.parse(result.stdout);
    expect(deployed.release).toBe(2);
    expect(result.stderr).toContain("reused, nothing installed");
    expect(await get(home.webPort)).toContain(`(v2, ${deployed.instances[0].id})`);
    const list = JSON.parse((await home.sarge(["list", "--json"])).stdout);
    const old = Object.values(before.instances)[0]!;
    expect(list.find((i: { id: string }) => i.id === old.id)).toMatchObject({ state: "kept", process: "stopped" });
    expect(list.find((i: { id: string }) => i.id === deployed.instances[0].id)).toMatchObject({ state: "active", process: expect.stringMatching(/^(starting|running)$/) });
  });

  it("rolls back to the kept instance without rebuilding, and history shows every release", async () => {
    const result = await home.sarge(["rollback", "web"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^rolled web back: web-\w+ -> web-\w+ \(release 3\)\n$/);
    expect(await get(home.webPort)).toContain("(v1, ");
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout);
    expect(history.map((entry: { kind: string; outcome: string }) => `${entry.kind}:${entry.outcome}`)).toEqual([
      "deploy:success",
      "deploy:success",
      "rollback:success",
    ]);
  });

  it("leaves a kept instance started by hand running through the next deploy, until it is stopped", async () => {
    const kept = Object.values(readState(home.paths).instances).find((instance) => instance.state === "kept")!;
    const start = await home.sarge(["start", kept.id]);
    expect([start.code, start.stdout]).toEqual([0, `${kept.id}: started on port ${kept.port} (not routed: use \`sarge rollback\` to route to it)\n`]);
    const deploy = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v3") });
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(deploy.stderr).not.toContain(`stopping ${kept.id}`);
    const processOf = async () => JSON.parse((await home.sarge(["list", "--json"])).stdout).find((i: { id: string }) => i.id === kept.id)?.process;
    expect(await processOf()).toMatch(/^(starting|running)$/);
    expect(await get(kept.port)).toContain(`(v2, ${kept.id})`);
    const stop = await home.sarge(["stop", kept.id]);
    expect([stop.code, stop.stdout]).toEqual([0, `${kept.id}: stopped\n`]);
    expect(await processOf()).toBe("stopped");
  });

  it("keeps serving every request across 5 deploys and a rollback under load", async () => {
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("v3") })).code).toBe(0);
    const load = startLoad(home.webPort, { workers: 4 });
    // when each instance took over the stable port (a rollback re-activates a retired one)
    const activations: Array<{ instance: string; at: number }> = [];
    const track = async (args: string[], input?: Buffer) => {
      const result = await home.sarge(args, {
        input,
        onStderr: (chunk) => {
          const switched = /now routes to (web-[a-z0-9]{6})/.exec(chunk);
          if (switched) activations.push({ instance: switched[1]!, at: now() });
        },
      });
      expect(result.code, result.stderr).toBe(0);
    };
    for (let i = 4; i <= 8; i++) await track(["deploy", "-", "web"], helloVersion(`v${i}`));
    await track(["rollback", "web"]);
    await waitFor(() => load.samples.length >= 2000, "2000 requests", 120_000, 100);
    const samples = await load.stop();
    const failures = samples.filter((sample) => sample.error !== null);
    expect(failures.slice(0, 5)).toEqual([]);
    expect(samples.length).toBeGreaterThanOrEqual(2000);
    expect(activations).toHaveLength(6);
    // A request sent after a switch finished (its line printed) must be answered by the instance it
    // switched to, or by the next one, which takes requests from the moment its slot is ready.
    const late = samples.filter((sample) => {
      const current = activations.findLastIndex((activation) => activation.at < sample.start);
      if (current < 0 || sample.body === null) return false;
      const allowed = [activations[current]!.instance, activations[current + 1]?.instance];
      return !allowed.includes(instanceOf(sample.body) ?? "");
    });
    expect(late.length, JSON.stringify({ activations, firstLate: late[0], lastLate: late.at(-1) })).toBe(0);
  });

  it("keeps keep_releases (3) stopped instances and destroys older ones: folder, port and log", async () => {
    const state = readState(home.paths);
    const instances = Object.values(state.instances);
    expect(instances.filter((i) => i.state === "active")).toHaveLength(1);
    expect(instances.filter((i) => i.state === "kept")).toHaveLength(3);
    expect(readdirSync(home.paths.deploy).sort()).toEqual(instances.map((i) => i.id).sort());
    const logs = readdirSync(home.paths.log).filter((name) => /^web-[a-z0-9]{6}\.log$/.test(name));
    expect(logs.sort()).toEqual(instances.map((i) => `${i.id}.log`).sort());
    const deployed = JSON.parse((await home.sarge(["history", "--json"])).stdout).flatMap((entry: { instances: string[] }) => entry.instances);
    expect(new Set(deployed).size).toBeGreaterThan(instances.length);
  });
});

describe("the HAProxy config a switch installs", () => {
  // haproxy, writing down when each `haproxy -c` began (ms since the epoch, as the progress lines' clock)
  const tools = mkdtempSync(join(tmpdir(), "sarge-haproxy-checks-"));
  const checks = join(tools, "checks.log");
  const haproxy = join(tools, "haproxy");
  writeFileSync(haproxy, `#!/bin/sh\n[ "$1" = -c ] && date +%s%3N >> ${checks}\nexec ${resolveHaproxyBin("haproxy")} "$@"\n`);
  chmodSync(haproxy, 0o755);
  afterAll(() => rmSync(tools, { recursive: true, force: true }));
  const home = useDeployedHome({ extraConfig: `haproxy_bin: ${haproxy}` });

  it("is checked while the new instance gets ready, once: the switch does not wait for haproxy -c", async () => {
    const before = readFileSync(checks, "utf8").split("\n").filter(Boolean).length;
    const result = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v2") });
    expect(result.code, result.stderr).toBe(0);
    const [, readyAt, port] = /^(\S+) web-\w+: ready on port (\d+)/m.exec(result.stderr)!;
    const ready = Date.parse(readyAt!);
    const during = readFileSync(checks, "utf8").split("\n").filter(Boolean).slice(before).map(Number);
    expect(during).toHaveLength(1);
    expect(during[0]).toBeLessThan(ready);
    expect(readFileSync(home.paths.haproxyCfg, "utf8")).toContain(`127.0.0.1:${port}`);
  });
});

describe("bad input never harms the running version", () => {
  const home = useDeployedHome({ app: helloVersion("good") });
  let serving: string;
  beforeAll(async () => {
    serving = await get(home.webPort);
  });

  async function expectRefused(input: Buffer | string, args: string[], message: string | RegExp) {
    const before = readState(home.paths);
    const result = await home.sarge(["deploy", "-", ...args], { input });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(await get(home.webPort)).toBe(serving);
    const after = readState(home.paths);
    expect(Object.keys(after.instances).sort()).toEqual(Object.keys(before.instances).sort());
    expect(readdirSync(home.paths.deploy).sort()).toEqual(Object.keys(before.instances).sort());
    const programs = JSON.parse((await home.sarge(["list", "--json"])).stdout).map((i: { id: string }) => i.id);
    expect(programs.sort()).toEqual(Object.keys(before.instances).sort());
    const liveDirs = Object.keys(before.instances).map((id) => join(home.paths.deploy, id));
    expect(processesUsing(home.paths.deploy).filter((p) => !liveDirs.some((dir) => p.cwd.startsWith(dir)))).toEqual([]);
  }

  it.each([
    ["a traversal entry", () => appWith([{ name: "../evil.txt", content: "x" }]), /deploy failed at unpack: archive entry "\.\.\/evil\.txt"/],
    ["an absolute path", () => appWith([{ name: "/tmp/evil.txt", content: "x" }]), /deploy failed at unpack: archive entry "\/tmp\/evil\.txt"/],
    ["an escaping symlink", () => appWith([{ name: "link", type: "symlink", linkname: "../../.." }]), /deploy failed at unpack: archive entry "link"/],
    ["a hardlink out", () => appWith([{ name: "hard", type: "link", linkname: "/etc/passwd" }]), /deploy failed at unpack: archive entry "hard"/],
    ["a device file", () => appWith([{ name: "dev", type: "character-device", devmajor: 1, devminor: 3 }]), /deploy failed at unpack: archive entry "dev"/],
  ])("refuses %s", async (_name, build, message) => {
    await expectRefused(await build(), ["web"], message);
  });

  it("refuses a truncated archive", async () => {
    const whole = helloArchive();
    await expectRefused(whole.subarray(0, 1536 + 100), ["web"], /deploy failed at unpack: .*truncated/);
  });

  it("refuses empty stdin", async () => {
    await expectRefused("", ["web"], /deploy failed at unpack: .*empty/);
  });

  it("refuses something that is not a tar", async () => {
    await expectRefused("this is not an archive\n".repeat(50), ["web"], /deploy failed at unpack: .*not a tar/);
  });

  it("refuses an archive without a Procfile", async () => {
    await expectRefused(await buildTar([{ name: "app.py", content: "print(1)\n" }]), ["web"], "deploy failed at procfile: the archive has no Procfile at its top level");
  });

  it("refuses an unknown process type, naming the ones that exist", async () => {
    await expectRefused(helloArchive(), ["worker"], 'deploy failed at procfile: unknown process type "worker": the Procfile defines web');
  });

  it("fails a crashing app with the last 50 lines of its log, which sarge logs --release shows after later deploys", async () => {
    const crash = "web: python -c \"import sys; [print('boom line', n) for n in range(1, 61)]; sys.exit(3)\"\n";
    await expectRefused(helloArchive({ Procfile: crash }), ["web"], /deploy failed at readiness: web-\w+ the process exited \(exit 3\) before it was ready\n\s*last lines of its log:\n\s*boom line 11\n[\s\S]*boom line 60/);
    const failed = JSON.parse((await home.sarge(["history", "--json"])).stdout).at(-1);
    expect(failed.outcome).toBe("failed");
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("after-crash") })).code).toBe(0);
    serving = await get(home.webPort);
    const shown = await home.sarge(["logs", "--release", String(failed.release), "-n", "3"]);
    expect(shown.stdout).toBe(`--- ${failed.instances[0]} ---\nboom line 58\nboom line 59\nboom line 60\n`);
    expect((await home.sarge(["logs", "--release", String(failed.release), "worker"])).stderr).toContain(`release ${failed.release} has no worker instance (it released web)`);
    expect((await home.sarge(["logs", "--release", "9999"])).stderr).toContain("release 9999 is not in the history (sarge history lists the releases)");
    expect((await home.sarge(["logs", "--release", String(failed.release), "-f"])).stderr).toContain("--follow and --release do not go together");
    expect((await home.sarge(["logs"])).stderr).toContain("logs needs an instance id or a process type (or --release N)");
  });

  it("fails an app that never listens, after health.timeout", async () => {
    const started = Date.now();
    await expectRefused(helloArchive({ Procfile: "web: sleep 600\n" }), ["web"], /deploy failed at readiness: web-\w+ not ready after 15s on port \d+/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15_000);
  });

  it("fails when the release hook fails, before anything starts", async () => {
    await expectRefused(
      helloArchive({ Procfile: "web: python app.py\nrelease: echo migrating; exit 4\n" }),
      ["web"],
      /deploy failed at release: the release command `echo migrating; exit 4` exited with code 4/,
    );
  });

  it("gives sarge run a pip that lists the instance's environment and refuses to change it", async () => {
    const listed = await home.sarge(["run", "web", "pip list --format freeze"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split("\n").map((line) => line.split("==")[0])).toEqual(["greeting"]);
    const install = await home.sarge(["run", "web", "pip", "install", "greeting"]);
    expect(install.code).toBe(2);
    expect(install.stderr).toContain("this environment is built from requirements.txt and shared by every instance with the same requirements, so pip does not change it here");
  });

  it("refuses to read a deploy from a missing file", async () => {
    const result = await home.sarge(["deploy", join(home.root, "nope.tar"), "web"]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nope\.tar/);
    expect(await get(home.webPort)).toBe(serving);
  });
});

describe("port range exhausted", () => {
  const home = useDeployedHome({ rangeSize: 1, app: null });

  it("says so and keeps the running version", async () => {
    expect((await home.sarge(["deploy", "-", "web"], { input: helloVersion("one") })).code).toBe(0);
    const result = await home.sarge(["deploy", "-", "web"], { input: helloVersion("two") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`deploy failed at port: port range ${home.portRange[0]}-${home.portRange[1]} is exhausted`);
    expect(await get(home.webPort)).toContain("(one, ");
    expect(existsSync(home.paths.deploy) && readdirSync(home.paths.deploy).length).toBe(1);
  });
});

describe("deploys into one home", () => {
  const home = useDeployedHome({ app: null });

  it("two deploys at once both finish, one after the other, and history shows both", async () => {
    const overSsh = { SSH_CLIENT: "192.0.2.7 50000 22", USER: "ann", SUDO_USER: "" };
    const [a, b] = await Promise.all([
      home.sarge(["deploy", "-", "web"], { input: helloVersion("a"), env: overSsh }),
      home.sarge(["deploy", "-", "web"], { input: helloVersion("b"), env: overSsh }),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    expect(a.stderr + b.stderr).toMatch(/waiting for the deploy lock held by pid \d+ \(\w+: sarge deploy web, since /);
    const history = JSON.parse((await home.sarge(["history", "--json"])).stdout);
    expect(history.map((entry: { release: number; outcome: string; user: string; from: string }) => [entry.release, entry.outcome, entry.user, entry.from])).toEqual([
      [1, "success", "ann", "192.0.2.7"],
      [2, "success", "ann", "192.0.2.7"],
    ]);
    expect((await home.sarge(["history"])).stdout).toMatch(/\n1 +deploy +web +- +ann@192\.0\.2\.7 /);
    expect(await get(home.webPort)).toMatch(/\((a|b), web-/);
  });

  describe("a deploy of some process types", () => {
    const app = (commit: string) =>
      buildTar(
        [{ name: "Procfile", content: 'web: python3 -m http.server $PORT --bind 127.0.0.1\nworker: python3 -c "import time; time.sleep(10**6)"\n' }],
        { globalHeader: commit },
      );
    const [a, b] = ["a".repeat(40), "b".repeat(40)];

    it("says which other types still run an older release, and how to deploy them", async () => {
      expect((await home.sarge(["deploy", "-", "web", "worker"], { input: await app(a) })).code).toBe(0);
      const web = await home.sarge(["deploy", "-", "web"], { input: await app(b) });
      expect(web.code, web.stderr).toBe(0);
      expect(web.stdout.split("\n").slice(1)).toEqual([
        "worker still runs release 3, commit aaaaaaaaaaaa",
        "deploy it with the same archive: sarge deploy - web worker",
        "",
      ]);
      const json = await home.sarge(["deploy", "-", "web", "--json"], { input: await app(b) });
      expect(JSON.parse(json.stdout).leftBehind).toEqual([{ proc: "worker", release: 3, commit: a }]);
    });

    it("says nothing when the other types run the same commit", async () => {
      const worker = await home.sarge(["deploy", "-", "worker"], { input: await app(b) });
      expect(worker.stdout).toMatch(/^deployed release \d+: worker-[a-z0-9]{6} \(port \d+\) in [\d.]+s\n$/);
    });
  });
});

import { describe, expect, it } from "vitest";
import { fleetPush, type FleetPushOptions } from "../../../src/push/fleet.js";
import type { LoadBalancer } from "../../../src/push/load-balancer.js";
import { inBatches, rolloutGroups } from "../../../src/push/pacing.js";
import { FleetProgress } from "../../../src/push/progress.js";
import type { HostSession, RemoteResult } from "../../../src/push/session.js";

/** A host that answers the sarge commands of a fleet push from memory; `fail` makes one command fail there. */
function fakeHost(name: string, log: string[], fail: Partial<Record<string, string>> = {}, active = { id: `web-${name}1`, release: 4 }): HostSession {
  const label = `u@${name}:/srv/app`;
  let staged = 0;
  const answer = (code: number, stdout = "", stderr = ""): RemoteResult => ({ code, stdout, stderr });
  return {
    name,
    label,
    async sarge(args, options = {}) {
      const command = args[0] === "deploy" ? "stage" : args[0]!;
      log.push(`${name} ${[command, ...args.slice(command === "stage" ? 3 : 1)].join(" ")}${options.env?.SARGE_PUSH_ID ? ` [${options.env.SARGE_PUSH_ID} ${options.env.SARGE_LOCK_TOKEN}]` : ""}`);
      if (fail[command] !== undefined) return answer(1, "", `sarge: ${fail[command]}\n`);
      if (command === "list") return answer(0, JSON.stringify([{ ...active, proc: "web", state: "active", commit: "c0ffee" }, { id: "web-old", proc: "web", release: 1, state: "kept", commit: null }]));
      if (command === "stage") return answer(0, JSON.stringify({ release: (staged = active.release + 1), commit: "abc", instances: [], durationMs: 1 }));
      return answer(0, staged ? "{}" : "");
    },
    async hold(waitSeconds) {
      if (fail.hold !== undefined) throw new Error(fail.hold);
      if (fail.busy !== undefined && waitSeconds === 0) throw new Error(fail.busy);
      log.push(`${name} hold${waitSeconds === 0 ? "" : ` --wait-lock ${waitSeconds}`}`);
      return { token: `t-${name}`, run: null, release: async () => void log.push(`${name} release`) };
    },
  };
}

function options(overrides: Partial<FleetPushOptions> = {}): FleetPushOptions & { lines: string[] } {
  const lines: string[] = [];
  return {
    procs: ["web"],
    archive: Buffer.from("tar"),
    commit: "abc",
    parallel: 3,
    limit: "1",
    waitMs: 0,
    verifySeconds: 1,
    onFailure: "rollback",
    waitLockSeconds: 5,
    lb: null,
    drainTimeoutMs: 1000,
    pushId: "push-1",
    lines,
    ...overrides,
    progress: new FleetProgress(["u@h3:/srv/app", "u@h1:/srv/app", "u@h2:/srv/app"], (line) => lines.push(line)),
  };
}

const changes = (log: string[]) => log.filter((line) => !/ (status|list|hold|release)/.test(line));

describe("fleet push, against fake hosts", () => {
  it("checks, locks in sorted order, stages everywhere, then switches one host at a time with the same push id", async () => {
    const log: string[] = [];
    const result = await fleetPush(["h3", "h1", "h2"].map((name) => fakeHost(name, log)), options());
    expect(result).toMatchObject({ outcome: "pushed", exitCode: 0, pushId: "push-1" });
    expect(log.filter((line) => line.endsWith(" hold"))).toEqual(["h1 hold", "h2 hold", "h3 hold"]);
    expect(log.filter((line) => line.endsWith(" release"))).toEqual(["h3 release", "h2 release", "h1 release"]);
    const activity = changes(log);
    expect(activity.slice(0, 3).sort()).toEqual(["h1 stage web --json [push-1 t-h1]", "h2 stage web --json [push-1 t-h2]", "h3 stage web --json [push-1 t-h3]"]);
    expect(activity.slice(3)).toEqual([
      "h3 activate 5 --json [push-1 t-h3]",
      "h3 verify web --for 1 [push-1 t-h3]",
      "h1 activate 5 --json [push-1 t-h1]",
      "h1 verify web --for 1 [push-1 t-h1]",
      "h2 activate 5 --json [push-1 t-h2]",
      "h2 verify web --for 1 [push-1 t-h2]",
    ]);
    expect(result.hosts.map((host) => [host.host, host.phase, host.state, host.runs])).toEqual([
      ["u@h3:/srv/app", "done", "ok", "release 5 (abc)"],
      ["u@h1:/srv/app", "done", "ok", "release 5 (abc)"],
      ["u@h2:/srv/app", "done", "ok", "release 5 (abc)"],
    ]);
  });

  it("without --verify each host is verified until its stable addresses pass 3 probes in a row", async () => {
    const log: string[] = [];
    const result = await fleetPush([fakeHost("h1", log)], options({ verifySeconds: null }));
    expect(result.exitCode).toBe(0);
    expect(log.filter((line) => line.includes(" verify "))).toEqual(["h1 verify web --passes 3 [push-1 t-h1]"]);
  });

  it("a hold that runs requests gets list, activate and verify; stage goes as a command; a failed request fails its step", async () => {
    const log: string[] = [];
    const host = fakeHost("h1", log);
    const requests: string[] = [];
    const hold = host.hold.bind(host);
    host.hold = async (waitSeconds, env) => ({
      ...(await hold(waitSeconds, env)),
      run: async (request) => {
        requests.push(JSON.stringify(request));
        if (request.command === "verify") return { code: 1, stdout: "", stderr: "sarge: web failed verification on its stable address 127.0.0.1:8000 after 0.0s: GET /up answered 500\n" };
        const listed = request.command === "list" ? [{ id: "web-h11", proc: "web", release: 4, state: "active", commit: "c0ffee" }] : {};
        return { code: 0, stdout: JSON.stringify(listed), stderr: "" };
      },
    });
    const result = await fleetPush([host], options({ verifySeconds: null }));
    expect(requests).toEqual(['{"command":"list"}', '{"command":"activate","release":5,"switched":true}', '{"command":"verify","procs":["web"],"forMs":0,"passes":3}']);
    expect(changes(log)).toEqual(["h1 stage web --json [push-1 t-h1]", "h1 rollback web --to web-h11 --json [push-1 t-h1]"]);
    expect(result).toMatchObject({ outcome: "rolled back", exitCode: 2 });
    expect(result.hosts[0]).toMatchObject({ phase: "rollback", state: "ok", note: "back on web-h11" });
  });

  it("rolls back without the lock's token a host whose hold session was lost: the rollback waits for the lock the hold may still use", async () => {
    const log: string[] = [];
    const host = fakeHost("h1", log);
    const hold = host.hold.bind(host);
    let lost = false;
    host.hold = async (waitSeconds, env) => ({
      ...(await hold(waitSeconds, env)),
      lost: () => lost,
      run: async (request) => {
        if (request.command === "list") return { code: 0, stdout: JSON.stringify([{ id: "web-h11", proc: "web", release: 4, state: "active", commit: "c0ffee" }]), stderr: "" };
        if (request.command === "activate") return { code: 0, stdout: "{}", stderr: "" };
        lost = true;
        return { code: 1, stdout: "", stderr: "sarge: the hold session ended: ssh exited 255\n" };
      },
    });
    const result = await fleetPush([host], options({ verifySeconds: null }));
    expect(result).toMatchObject({ outcome: "rolled back", exitCode: 2 });
    expect(changes(log)).toEqual(["h1 stage web --json [push-1 t-h1]", "h1 rollback web --to web-h11 --json [push-1 undefined]"]);
  });

  /**
   * Hosts whose hold answers `switched` and ends the activation (retire,
   * record) only 30 ms after the next host switched or was aborted (the last
   * one: after its own verification): what a slow retire looks like to the
   * push. Their activations can wait before the switch for `go` or `abort`.
   */
  function slowRetiringHosts(log: string[], failVerify: string[] = []): HostSession[] {
    const names = ["h1", "h2", "h3"];
    const event = <T = void>() => {
      let resolve: (value: T) => void = () => undefined;
      return { promise: new Promise<T>((done) => (resolve = done)), resolve: (value: T) => resolve(value) };
    };
    const switchedOn = new Map(names.map((name) => [name, event()]));
    const verifiedOn = new Map(names.map((name) => [name, event()]));
    const goOn = new Map(names.map((name) => [name, event<boolean>()]));
    const ok = (stdout = "{}"): RemoteResult => ({ code: 0, stdout, stderr: "" });
    return names.map((name, index) => {
      const host = fakeHost(name, log);
      const hold = host.hold.bind(host);
      host.hold = async (waitSeconds, env) => ({
        ...(await hold(waitSeconds, env)),
        tell: (word) => goOn.get(name)!.resolve(word === "go"),
        run: async (request, told) => {
          if (request.command === "list") return ok(JSON.stringify([{ id: `web-${name}1`, proc: "web", release: 4, state: "active", commit: "c0ffee" }]));
          if (request.command === "verify") {
            log.push(`${name} verify`);
            verifiedOn.get(name)!.resolve();
            return failVerify.includes(name) ? { code: 1, stdout: "", stderr: "sarge: GET /up answered 500\n" } : ok();
          }
          if (request.prepare) {
            log.push(`${name} prepared`);
            if (!(await goOn.get(name)!.promise)) {
              log.push(`${name} aborted`);
              switchedOn.get(name)!.resolve();
              return { code: 1, stdout: "", stderr: "sarge: activate cancelled at switch\n" };
            }
          }
          log.push(`${name} switched`);
          switchedOn.get(name)!.resolve();
          told?.switched?.(ok());
          const next = names[index + 1];
          await (next ? switchedOn.get(next)! : verifiedOn.get(name)!).promise;
          await new Promise((resolve) => setTimeout(resolve, 30));
          log.push(`${name} retired`);
          return ok();
        },
      });
      return host;
    });
  }

  it("verifies each host from its switch on and switches the next while the one before retires; reports once every activation ended", async () => {
    const log: string[] = [];
    const result = await fleetPush(slowRetiringHosts(log), options());
    expect(result).toMatchObject({ outcome: "pushed", exitCode: 0 });
    const at = (line: string) => log.indexOf(line);
    // the next host switches before the one before it has retired, each host verified after its own switch
    expect(at("h2 switched")).toBeLessThan(at("h1 retired"));
    expect(at("h3 switched")).toBeLessThan(at("h2 retired"));
    for (const name of ["h1", "h2", "h3"]) expect(at(`${name} switched`)).toBeLessThan(at(`${name} verify`));
    // the next host's activation does its pre-switch work while the one before is verified, and switches after
    expect(log.filter((line) => / (prepared|switched|verify)$/.test(line))).toEqual([
      "h1 switched",
      "h2 prepared",
      "h1 verify",
      "h2 switched",
      "h3 prepared",
      "h2 verify",
      "h3 switched",
      "h3 verify",
    ]);
    expect(at("h3 retired"), "the push returned before the last activation ended").toBeGreaterThan(0);
    expect(result.hosts.map((host) => [host.phase, host.state])).toEqual([["done", "ok"], ["done", "ok"], ["done", "ok"]]);
  });

  it("host 3 fails its verification while host 2 still retires: the rollback waits for host 2's activation to end, then moves all three back, exit 2", async () => {
    const log: string[] = [];
    const result = await fleetPush(slowRetiringHosts(log, ["h3"]), options());
    expect(result).toMatchObject({ outcome: "rolled back", exitCode: 2 });
    const at = (line: string) => log.indexOf(line);
    expect(at("h3 verify")).toBeLessThan(at("h2 retired"));
    expect(changes(log).filter((line) => / (rollback|discard) /.test(line))).toEqual([
      "h3 rollback web --to web-h31 --json [push-1 t-h3]",
      "h2 rollback web --to web-h21 --json [push-1 t-h2]",
      "h1 rollback web --to web-h11 --json [push-1 t-h1]",
    ]);
    for (const name of ["h1", "h2", "h3"]) expect(at(`${name} retired`), `${name}'s activation ended before its rollback`).toBeLessThan(at("h3 rollback web --to web-h31 --json [push-1 t-h3]"));
  });

  it("host 2 fails its verification while host 3's activation waits before its switch: host 3's is aborted (its staged release discarded after), hosts 1-2 go back, exit 2", async () => {
    const log: string[] = [];
    const result = await fleetPush(slowRetiringHosts(log, ["h2"]), options());
    expect(result).toMatchObject({ outcome: "rolled back", exitCode: 2 });
    expect(log.filter((line) => / (prepared|aborted|switched)$| (discard|rollback) /.test(line))).toEqual([
      "h1 switched",
      "h2 prepared",
      "h2 switched",
      "h3 prepared",
      "h3 aborted",
      "h3 discard 5 [push-1 t-h3]",
      "h2 rollback web --to web-h21 --json [push-1 t-h2]",
      "h1 rollback web --to web-h11 --json [push-1 t-h1]",
    ]);
    expect(result.hosts.map((host) => host.runs)).toEqual(["release 4 (c0ffee)", "release 4 (c0ffee)", "release 4 (c0ffee)"]);
  });

  it("a host that fails staging: every staged release is discarded, no host switches, exit 1", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h1", log), fakeHost("h2", log, { stage: "deploy failed at environment: no wheel for extra==1.0" }), fakeHost("h3", log)];
    const result = await fleetPush(hosts, options({ parallel: 1 }));
    expect(result).toMatchObject({ outcome: "not staged", exitCode: 1 });
    // --parallel 1: h3 is never staged once h2 failed
    expect(changes(log)).toEqual(["h1 stage web --json [push-1 t-h1]", "h2 stage web --json [push-1 t-h2]", "h1 discard 5 [push-1 t-h1]"]);
    expect(result.hosts[1]).toMatchObject({ phase: "stage", state: "failed", note: "deploy failed at environment: no wheel for extra==1.0", runs: "release 4 (c0ffee)" });
    expect(log.filter((line) => line.endsWith(" release"))).toHaveLength(3);
  });

  it("a host that fails verification: the moved hosts go back to exactly what each ran, last first, exit 2", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h1", log), fakeHost("h2", log, {}, { id: "web-other", release: 9 }), fakeHost("h3", log, { verify: "web failed verification on its stable address 127.0.0.1:8000 after 0.3s: GET /up answered 500" })];
    const result = await fleetPush(hosts, options());
    expect(result).toMatchObject({ outcome: "rolled back", exitCode: 2 });
    expect(changes(log).filter((line) => !/ stage /.test(line))).toEqual([
      "h1 activate 5 --json [push-1 t-h1]",
      "h1 verify web --for 1 [push-1 t-h1]",
      "h2 activate 10 --json [push-1 t-h2]",
      "h2 verify web --for 1 [push-1 t-h2]",
      "h3 activate 5 --json [push-1 t-h3]",
      "h3 verify web --for 1 [push-1 t-h3]",
      "h3 rollback web --to web-h31 --json [push-1 t-h3]",
      "h2 rollback web --to web-other --json [push-1 t-h2]",
      "h1 rollback web --to web-h11 --json [push-1 t-h1]",
    ]);
    expect(result.hosts.map((host) => [host.phase, host.state, host.runs, host.moved])).toEqual([
      ["rollback", "ok", "release 4 (c0ffee)", false],
      ["rollback", "ok", "release 9 (c0ffee)", false],
      ["rollback", "ok", "release 4 (c0ffee)", false],
    ]);
  });

  it("--on-failure stop leaves the moved hosts, discards what was only staged, says who runs what", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h1", log), fakeHost("h2", log, { activate: "activate failed at readiness: not ready" }), fakeHost("h3", log)];
    const result = await fleetPush(hosts, options({ onFailure: "stop" }));
    expect(result).toMatchObject({ outcome: "stopped", exitCode: 2 });
    expect(changes(log).filter((line) => !/ stage /.test(line))).toEqual([
      "h1 activate 5 --json [push-1 t-h1]",
      "h1 verify web --for 1 [push-1 t-h1]",
      "h2 activate 5 --json [push-1 t-h2]",
      "h2 discard 5 [push-1 t-h2]",
      "h3 discard 5 [push-1 t-h3]",
    ]);
    expect(result.hosts.map((host) => host.runs)).toEqual(["release 5 (abc)", "release 4 (c0ffee)", "release 4 (c0ffee)"]);
  });

  it("switches --limit hosts at a time and waits for the whole group before going on", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h1", log), fakeHost("h2", log, { verify: "down" }), fakeHost("h3", log)];
    const result = await fleetPush(hosts, options({ limit: "50%" }));
    expect(result.exitCode).toBe(2);
    // h1 and h2 form the first group: h3 never switches, its staged release is discarded
    expect(changes(log).filter((line) => / (activate|discard|rollback) /.test(line))).toEqual([
      "h1 activate 5 --json [push-1 t-h1]",
      "h2 activate 5 --json [push-1 t-h2]",
      "h3 discard 5 [push-1 t-h3]",
      "h2 rollback web --to web-h21 --json [push-1 t-h2]",
      "h1 rollback web --to web-h11 --json [push-1 t-h1]",
    ]);
  });

  it("refuses before locking anything when a host does not answer, naming it", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h1", log), fakeHost("h2", log, { status: "ssh: connect to host h2 port 22: Connection refused" })];
    await expect(fleetPush(hosts, options())).rejects.toMatchObject({
      message: "not every host answers: nothing was pushed",
      detail: "u@h2:/srv/app: ssh: connect to host h2 port 22: Connection refused",
    });
    expect(log.filter((line) => !line.includes(" status"))).toEqual([]);
  });

  it("releases the locks it took when one cannot be taken", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h2", log, { hold: "u@h2:/srv/app: could not take the deploy lock: the home is locked by pid 7" }), fakeHost("h1", log)];
    await expect(fleetPush(hosts, options())).rejects.toMatchObject({ message: "could not lock every host: nothing was pushed" });
    expect(log.filter((line) => !line.includes(" status"))).toEqual(["h1 hold", "h1 release", "h1 hold --wait-lock 5", "h1 release"]);
  });

  it("takes every lock at once without waiting; when one is busy, lets go of the others and takes them in sorted order, each waiting", async () => {
    const log: string[] = [];
    const hosts = [fakeHost("h3", log), fakeHost("h2", log, { busy: "u@h2:/srv/app: could not take the deploy lock: the home is locked by pid 7" }), fakeHost("h1", log)];
    const result = await fleetPush(hosts, options());
    expect(result.exitCode).toBe(0);
    expect(log.filter((line) => / (hold|release)/.test(line)).slice(0, 7)).toEqual([
      "h1 hold",
      "h3 hold",
      "h3 release",
      "h1 release",
      "h1 hold --wait-lock 5",
      "h2 hold --wait-lock 5",
      "h3 hold --wait-lock 5",
    ]);
  });

  it("--lb: drains each host until its sessions reach 0 before the switch, ready after verification", async () => {
    const log: string[] = [];
    let sessions = 2;
    const lb: LoadBalancer = {
      label: "lb",
      servers: async () => ["h1", "h2"],
      setState: async (server, state) => void log.push(`lb ${server} ${state}`),
      currentSessions: async (server) => {
        log.push(`lb ${server} sessions ${sessions}`);
        return sessions > 0 ? sessions-- : 0;
      },
    };
    const result = await fleetPush([fakeHost("h1", log), fakeHost("h2", log)], options({ lb }));
    expect(result.exitCode).toBe(0);
    expect(changes(log).filter((line) => !/ stage /.test(line))).toEqual([
      "lb h1 drain",
      "lb h1 sessions 2",
      "lb h1 sessions 1",
      "lb h1 sessions 0",
      "h1 activate 5 --json [push-1 t-h1]",
      "h1 verify web --for 1 [push-1 t-h1]",
      "lb h1 ready",
      "lb h2 drain",
      "lb h2 sessions 0",
      "h2 activate 5 --json [push-1 t-h2]",
      "h2 verify web --for 1 [push-1 t-h2]",
      "lb h2 ready",
    ]);
  });

  it("--lb: a host the load balancer will not drain is not switched, and the moved ones go back", async () => {
    const log: string[] = [];
    const lb: LoadBalancer = {
      label: "lb",
      servers: async () => ["h1", "h2"],
      setState: async (server, state) => {
        if (server === "h2" && state === "drain") throw new Error("load balancer lb: could not set h2 to drain: Permission denied.");
        log.push(`lb ${server} ${state}`);
      },
      currentSessions: async () => 0,
    };
    const result = await fleetPush([fakeHost("h1", log), fakeHost("h2", log)], options({ lb }));
    expect(result.exitCode).toBe(2);
    expect(result.hosts[1]).toMatchObject({ phase: "discard", state: "ok", moved: false });
    expect(changes(log).filter((line) => !/ stage /.test(line))).toEqual([
      "lb h1 drain",
      "h1 activate 5 --json [push-1 t-h1]",
      "h1 verify web --for 1 [push-1 t-h1]",
      "lb h1 ready",
      "h2 discard 5 [push-1 t-h2]",
      "lb h1 drain",
      "h1 rollback web --to web-h11 --json [push-1 t-h1]",
      "lb h1 ready",
    ]);
  });

  it("--lb: refuses when the backend has no server named after a host", async () => {
    const lb: LoadBalancer = { label: "lb:/s backend app", servers: async () => ["h1"], setState: async () => undefined, currentSessions: async () => 0 };
    await expect(fleetPush([fakeHost("h1", []), fakeHost("h2", [])], options({ lb }))).rejects.toMatchObject({
      detail: "lb:/s backend app has no server named h2 (it has h1)",
    });
  });
});

describe("fleet pacing", () => {
  it("groups by count or percentage (rounded up) and refuses the rest", () => {
    expect(rolloutGroups([1, 2, 3], "1")).toEqual([[1], [2], [3]]);
    expect(rolloutGroups([1, 2, 3], "2")).toEqual([[1, 2], [3]]);
    expect(rolloutGroups([1, 2, 3], "50%")).toEqual([[1, 2], [3]]);
    expect(rolloutGroups([1, 2, 3], "100%")).toEqual([[1, 2, 3]]);
    for (const bad of ["0", "x", "150%", "-1", "1.5"]) expect(() => rolloutGroups([1], bad), bad).toThrow(/--limit .*: expected a number of hosts \(2\) or a percentage of them \(25%\)/);
  });

  it("runs at most N at a time", async () => {
    let running = 0;
    let most = 0;
    await inBatches([1, 2, 3, 4, 5], 2, async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
    });
    expect(most).toBe(2);
  });
});

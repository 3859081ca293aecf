import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { instanceLogPath } from "../../../src/home/paths.js";
import { instanceDir } from "../../../src/instance/env.js";
import { programSpec } from "../../../src/instance/lifecycle.js";
import { emptyState, readState, writeState, type InstanceRecord, type InstanceState } from "../../../src/instance/state.js";
import { prune } from "../../../src/release/retire.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";

describe("pruning after a release", () => {
  let home: UnitHome;
  afterEach(() => home.destroy());

  const key = (digit: string) => digit.repeat(20);

  /** A Python environment as prepareEnvironment publishes it: var/envs/<key> links to its build folder. */
  function publishEnvironment(envKey: string): void {
    mkdirSync(join(home.paths.envs, `${envKey}.b1-x`));
    symlinkSync(`${envKey}.b1-x`, join(home.paths.envs, envKey));
  }

  /** An instance with its folder (linked to its environment), its log, and a stopped program. */
  async function instance(proc: string, release: number, state: InstanceState, retiredAt: string | null, envKey: string): Promise<InstanceRecord> {
    const record: InstanceRecord = {
      id: `${proc}-r${release}aaaa`,
      proc,
      release,
      state,
      port: 0,
      commit: null,
      command: `serve-${proc}`,
      envKey,
      configEnv: {},
      createdAt: "2026-01-01T00:00:00.000Z",
      activatedAt: null,
      retiredAt,
    };
    mkdirSync(instanceDir(home.paths, record.id));
    symlinkSync(join(home.paths.envs, envKey), join(instanceDir(home.paths, record.id), ".venv"));
    writeFileSync(instanceLogPath(home.paths, record.id), "served\n");
    await home.supervisor.start(programSpec(home.ctx, record));
    await home.supervisor.stop(record.id);
    return record;
  }

  it("keeps the keep_releases most recently retired instances of each type, destroys the rest, and collects the environments nothing uses", async () => {
    home = await createUnitHome({ keepReleases: 2 });
    for (const digit of ["1", "2", "3", "4"]) publishEnvironment(key(digit));
    const instances = [
      // release 1 was rolled back to and replaced again: it retired last
      await instance("web", 1, "kept", "2026-01-05T00:00:00.000Z", key("1")),
      await instance("web", 2, "kept", "2026-01-02T00:00:00.000Z", key("2")),
      await instance("web", 3, "kept", "2026-01-03T00:00:00.000Z", key("1")),
      await instance("web", 4, "active", null, key("1")),
      await instance("api", 1, "kept", "2026-01-02T00:00:00.000Z", key("3")),
      await instance("api", 4, "active", null, key("3")),
    ];
    const state = { ...emptyState(), lastRelease: 4, instances: Object.fromEntries(instances.map((record) => [record.id, record])) };
    writeState(home.paths, state);

    await prune(home.ctx, state, []);
    expect(home.lines).toEqual(["web-r2aaaa: destroyed (beyond keep_releases: 2)"]);
    expect(Object.keys(readState(home.paths).instances).sort()).toEqual(["api-r1aaaa", "api-r4aaaa", "web-r1aaaa", "web-r3aaaa", "web-r4aaaa"]);
    expect(home.folders()).toEqual(["api-r1aaaa", "api-r4aaaa", "web-r1aaaa", "web-r3aaaa", "web-r4aaaa"]);
    expect(await home.supervisor.statusOf("web-r2aaaa")).toBeUndefined();
    expect(existsSync(instanceLogPath(home.paths, "web-r2aaaa"))).toBe(false);
    expect(readdirSync(home.paths.envs).sort()).toEqual([key("1"), `${key("1")}.b1-x`, key("3"), `${key("3")}.b1-x`]);
  });
});

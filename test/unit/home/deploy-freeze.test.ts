import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertDeploysOpen, DeployFrozenError, freezeDeploys, readDeployFreeze, unfreezeDeploys } from "../../../src/home/deploy-freeze.js";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";

describe("the deploy lock (sarge lock / unlock)", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-freeze-")));
    mkdirSync(join(paths.root, "var"));
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("refuses deploys with the reason and who locked it, until unlocked; --force goes through", () => {
    const freeze = freezeDeploys(paths, "  release freeze for the audit ", "alice");
    expect(freeze).toEqual({ reason: "release freeze for the audit", who: "alice", since: expect.any(String) });
    expect(readDeployFreeze(paths)).toEqual(freeze);

    const refused = (() => {
      try {
        assertDeploysOpen(paths, false);
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(DeployFrozenError);
    expect(refused).toMatchObject({
      message: `deploys are locked by alice since ${freeze.since}: release freeze for the audit`,
      detail: "Rollback still works. sarge unlock lifts the lock; an admin may deploy through it with --force.",
      exitCode: 4,
    });
    expect(() => assertDeploysOpen(paths, true)).not.toThrow();

    expect(unfreezeDeploys(paths)).toEqual(freeze);
    expect(() => assertDeploysOpen(paths, false)).not.toThrow();
    expect(unfreezeDeploys(paths)).toBeNull();
  });

  it("names the lock that stands instead of replacing its reason, and wants a reason", () => {
    const first = freezeDeploys(paths, "incident 42", "bob");
    expect(() => freezeDeploys(paths, "another", "carol")).toThrow(`deploys are already locked by bob since ${first.since}: incident 42`);
    unfreezeDeploys(paths);
    expect(() => freezeDeploys(paths, " ", "carol")).toThrow('give the reason for the lock: sarge lock "<reason>"');
  });

  it("records $SARGE_ACTOR as who locked it (the API token's name)", () => {
    process.env.SARGE_ACTOR = "ci-token";
    try {
      expect(freezeDeploys(paths, "release day").who).toBe("ci-token");
    } finally {
      delete process.env.SARGE_ACTOR;
    }
  });
});

import { describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { plainLines } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get } from "../support/load.js";

describe("sarge lock / unlock: the deploy freeze (builtin supervisor, real HAProxy)", () => {
  const home = useDeployedHome();

  it("refuses deploys with the reason and who locked it (exit 4), shows it in status, refuses activate of a staged release too, lets rollback and --force through", async () => {
    const lock = await home.sarge(["lock", "--json", "incident 7: database migration"], { env: { SARGE_ACTOR: "alice" } });
    expect(lock.code, lock.stderr).toBe(0);
    const { since } = JSON.parse(lock.stdout);
    const locked = `locked by alice since ${since}: incident 7: database migration`;

    const refused = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v2") });
    expect(refused.code).toBe(4);
    expect(plainLines(refused.stderr)).toBe(
      `sarge: deploys are ${locked}\n  Rollback still works. sarge unlock lifts the lock; an admin may deploy through it with --force.\n`,
    );
    expect(await get(home.webPort)).toContain("(v1, ");

    const status = await home.sarge(["status"]);
    expect(status.stdout).toContain(`\ndeploys are ${locked}\n`);
    const json = JSON.parse((await home.sarge(["status", "--json"])).stdout);
    expect(json[0].deployLock).toEqual({ reason: "incident 7: database migration", who: "alice", since });

    const again = await home.sarge(["lock", "other"]);
    expect([again.code, plainLines(again.stderr)]).toEqual([1, `sarge: deploys are already ${locked}\n  sarge unlock lifts it first.\n`]);

    const staged = await home.sarge(["deploy", "--stage", "--force", "-", "web", "--json"], { input: helloVersion("v2") });
    expect(staged.code, staged.stderr).toBe(0);
    const { release } = JSON.parse(staged.stdout) as { release: number };
    const activate = await home.sarge(["activate", String(release)]);
    expect([activate.code, plainLines(activate.stderr)]).toEqual([
      4,
      `sarge: deploys are ${locked}\n  Rollback still works. sarge unlock lifts the lock; an admin may deploy through it with --force.\n`,
    ]);
    expect(await get(home.webPort)).toContain("(v1, ");
    const forced = await home.sarge(["activate", "--force", String(release)]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await get(home.webPort)).toContain("(v2, ");
    const rollback = await home.sarge(["rollback", "web"]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(await get(home.webPort)).toContain("(v1, ");

    const unlock = await home.sarge(["unlock"]);
    expect(unlock.stdout).toBe(`unlocked deploys (were ${locked})\n`);
    expect((await home.sarge(["unlock"])).stdout).toBe("deploys were not locked\n");
    expect(JSON.parse((await home.sarge(["status", "--json"])).stdout)[0].deployLock).toBeNull();
    const open = await home.sarge(["deploy", "-", "web"], { input: helloVersion("v3") });
    expect(open.code, open.stderr).toBe(0);
  });
});

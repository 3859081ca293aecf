import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { waitFor } from "../support/wait.js";

/**
 * One request on a connection of its own: a keep-alive connection reset later makes the app log a
 * traceback (HAProxy's idle connections to the app still do, ~900 bytes each), which must not rotate
 * the log twice between two reads of the follower: see the batches below.
 */
function request(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    httpGet({ host: "127.0.0.1", port, path, agent: false }, (res) => res.resume().on("end", resolve)).on("error", reject),
  );
}

describe("sarge logs", () => {
  const home = useDeployedHome({ extraConfig: "logs:\n  max_bytes: 4000\n  keep: 2" });

  it("prints the last lines of the active instance's output", async () => {
    await request(home.webPort, "/first");
    const result = await home.sarge(["logs", "web", "-n", "1"]);
    expect(result.stdout).toMatch(/^127\.0\.0\.1 "GET \/first HTTP\/1\.1" 200 -\n$/);
  });

  it("shows a Python worker's print() without flush (PYTHONUNBUFFERED=1)", async () => {
    const worker = helloVersion("v1", {
      Procfile: (old) => `${old}worker: python worker.py\n`,
      "worker.py": 'import time\nprint("worker is up")\nwhile True:\n    time.sleep(1)\n',
    });
    expect((await home.sarge(["deploy", "-", "worker"], { input: worker })).code).toBe(0);
    let out = "";
    await waitFor(async () => (out = (await home.sarge(["logs", "worker", "-n", "5"])).stdout).includes("worker is up"), () => `the worker's line in sarge logs; saw ${JSON.stringify(out)}`);
  });

  it("refuses an unknown target", async () => {
    const result = await home.sarge(["logs", "nope-abcdef"]);
    expect([result.code, result.stderr]).toEqual([1, 'sarge: no instance "nope-abcdef" in this home (see `sarge list`)\n']);
  });

  it("-f follows across rotation, a deploy and a rollback", async () => {
    const follower = home.spawn(["logs", "web", "-f", "-n", "0"]);
    const out = () => follower.stdout;
    try {
      // following once a request made after it started shows up
      await waitFor(async () => {
        await request(home.webPort, "/following");
        return out().includes("/following");
      }, "sarge logs -f to follow", 30_000, 250);
      // 100 lines of ~42 bytes: past max_bytes (4000) whatever else the instance logged; in batches the
      // follower has read before the next, so no two rotations fall between two of its reads
      for (let batch = 0; batch < 10; batch++) {
        for (let i = batch * 10; i < batch * 10 + 10; i++) await request(home.webPort, `/before-${i}`);
        await waitFor(() => out().includes(`/before-${batch * 10 + 9} `), `request ${batch * 10 + 9} before the deploy`);
      }
      const active = JSON.parse((await home.sarge(["status", "--json"])).stdout)[0].active as string;
      await waitFor(() => existsSync(join(home.paths.log, `${active}.log.1`)), "the log to be rotated (4000 bytes)");
      for (let i = 0; i < 5; i++) await request(home.webPort, `/rotated-${i}`);
      await waitFor(() => out().includes("/rotated-4"), "requests logged after the rotation");
      const deployed = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v2") });
      const newId = JSON.parse(deployed.stdout).instances[0].id as string;
      await request(home.webPort, "/after");
      await waitFor(() => out().includes("/after"), "a request after the deploy");
      expect(out()).toContain(`--- web is now ${newId} ---`);
      for (let i = 0; i < 100; i++) expect(out()).toContain(`/before-${i} `);

      // what the replaced instance logged before: sarge logs -f has shown it once already
      appendFileSync(join(home.paths.log, `${active}.log`), "an old line of the replaced instance\n");
      // the follower notices the rollback only after the reactivated instance has logged a request (as at load): that line is still shown
      process.kill(follower.pid, "SIGSTOP");
      try {
        expect((await home.sarge(["rollback", "web"])).code).toBe(0);
        await request(home.webPort, "/after-rollback");
        await waitFor(() => readFileSync(join(home.paths.log, `${active}.log`), "utf8").includes("/after-rollback"), "the reactivated instance to log the request");
      } finally {
        process.kill(follower.pid, "SIGCONT");
      }
      await waitFor(() => out().includes("/after-rollback"), "a request after the rollback");
      expect(out()).toContain(`--- web is now ${active} ---`);
      const sinceRollback = out().slice(out().indexOf(`--- web is now ${active} ---`));
      // the reactivated instance's log is followed from its end, not reprinted from its start
      expect(sinceRollback).not.toContain("an old line of the replaced instance");
    } finally {
      follower.signal("SIGINT");
    }
  });
});

import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helloVersion } from "../support/apps.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { waitFor } from "../support/wait.js";

/** One request on a connection of its own. */
function request(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    httpGet({ host: "127.0.0.1", port, path, agent: false }, (res) => res.resume().on("end", resolve)).on("error", reject),
  );
}

const MAX_BYTES = 100_000;

/** More than the log's max_bytes, as one write, its last line naming it. */
function generation(name: string): string {
  return `${name} generation: ${"x".repeat(990)}\n`.repeat(MAX_BYTES / 1000 + 1) + `${name} generation ends\n`;
}

describe("sarge logs", () => {
  const home = useDeployedHome({ extraConfig: `logs:\n  max_bytes: ${MAX_BYTES}\n  keep: 2` });

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

  it("-f follows across rotations (two between two of its reads), a deploy and a rollback", async () => {
    const follower = home.spawn(["logs", "web", "-f", "-n", "0"]);
    const out = () => follower.stdout;
    try {
      // following once a request made after it started shows up
      await waitFor(async () => {
        await request(home.webPort, "/following");
        return out().includes("/following");
      }, "sarge logs -f to follow", 30_000, 250);
      for (let i = 0; i < 20; i++) await request(home.webPort, `/before-${i}`);
      await waitFor(() => out().includes("/before-19 "), "the requests before the rotations");
      const active = JSON.parse((await home.sarge(["status", "--json"])).stdout)[0].active as string;
      const log = join(home.paths.log, `${active}.log`);
      // the supervisor rotates the log twice while the follower is stopped: with keep 2, both generations are in the copies
      process.kill(follower.pid, "SIGSTOP");
      try {
        for (const name of ["first", "second"]) {
          appendFileSync(log, generation(name));
          await waitFor(() => existsSync(`${log}.1`) && readFileSync(`${log}.1`, "utf8").includes(`${name} generation ends\n`), `the log rotated after the ${name} generation`);
        }
        await request(home.webPort, "/rotated");
        await waitFor(() => readFileSync(log, "utf8").includes("/rotated"), "the instance to log a request after the rotations");
      } finally {
        process.kill(follower.pid, "SIGCONT");
      }
      await waitFor(() => out().includes("/rotated"), "the follower to print the request after the rotations");
      const order = ["/before-19 ", "first generation ends", "second generation ends", "/rotated"].map((text) => out().indexOf(text));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(order[0]).toBeGreaterThanOrEqual(0);
      expect(out()).not.toContain("rotated away");
      for (let i = 0; i < 20; i++) expect(out()).toContain(`/before-${i} `);
      const deployed = await home.sarge(["deploy", "-", "web", "--json"], { input: helloVersion("v2") });
      const newId = JSON.parse(deployed.stdout).instances[0].id as string;
      await request(home.webPort, "/after");
      await waitFor(() => out().includes("/after"), "a request after the deploy");
      expect(out()).toContain(`--- web is now ${newId} ---`);

      // what the replaced instance logged before: sarge logs -f has shown it once already
      appendFileSync(log, "an old line of the replaced instance\n");
      // the follower notices the rollback only after the reactivated instance has logged a request (as at load): that line is still shown
      process.kill(follower.pid, "SIGSTOP");
      try {
        expect((await home.sarge(["rollback", "web"])).code).toBe(0);
        await request(home.webPort, "/after-rollback");
        await waitFor(() => readFileSync(log, "utf8").includes("/after-rollback"), "the reactivated instance to log the request");
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

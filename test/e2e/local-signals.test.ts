/** docs/local.md (shutdown, exit codes, signals to sarge), end to end with real signals. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "../support/wait.js";
import { alive, killGroup, linesOf, localStart, normalize, project, spawnLocal } from "./local-support.js";

/** A process that reports TERM/INT and exits 0 on TERM. */
const TRAPPING = `trap 'echo got TERM; exit 0' TERM; trap 'echo got INT; exit 0' INT; echo ready; while :; do sleep 0.05; done`;
/** A process that ignores SIGTERM (so do its sleeps: SIG_IGN is inherited). */
const STUBBORN = `trap '' TERM; echo ready; while :; do sleep 0.05; done`;

const pidOf = (stdout: string, name: string): number =>
  Number(stdout.match(new RegExp(`${name.replace(".", "\\.")} started \\(pid=(\\d+)\\)`))![1]);

describe("sarge local start: shutdown (docs/local.md)", () => {
  it("when the first process stops, every other gets SIGTERM to its group; exit code = the first one's rc", async () => {
    const cwd = project({ Procfile: `web: sleep 0.3; exit 3\nworker: ${TRAPPING}\nclock: exec sleep 30\n` });
    const result = await localStart(cwd);
    expect(result.code).toBe(3);
    const out = normalize(result.stdout).split("\n");
    const stopped = out.indexOf("HH:MM:SS system   | web.1 stopped (rc=3)");
    expect(stopped).toBeGreaterThan(0);
    expect(out.slice(stopped + 1, stopped + 3).sort()).toEqual([
      "HH:MM:SS system   | sending SIGTERM to clock.1 (pid N)",
      "HH:MM:SS system   | sending SIGTERM to worker.1 (pid N)",
    ]);
    expect(out).toContain("HH:MM:SS worker.1 | got TERM");
    expect(out).toContain("HH:MM:SS system   | worker.1 stopped (rc=0)");
    expect(out).toContain("HH:MM:SS system   | clock.1 stopped (rc=-15)");
    // the pid in the SIGTERM line is the process's own
    expect(result.stdout).toContain(`sending SIGTERM to clock.1 (pid ${pidOf(result.stdout, "clock.1")})`);
    expect(out.filter((line) => line.includes("sending SIGTERM"))).toHaveLength(2);
  });

  it("within one process: started line, its output lines, stopped line; output after another stopped is still printed", async () => {
    const cwd = project({
      Procfile: `web: sleep 0.3\nworker: trap 'echo bye 1; echo bye 2; exit 0' TERM; echo hello; while :; do sleep 0.05; done\n`,
    });
    const result = await localStart(cwd);
    // dash reports the killed foreground `sleep` as "Terminated" on the merged stderr
    expect(linesOf(result.stdout, "worker.1").filter((line) => !line.endsWith("| Terminated"))).toEqual([
      "HH:MM:SS system   | worker.1 started (pid=N)",
      "HH:MM:SS worker.1 | hello",
      "HH:MM:SS system   | sending SIGTERM to worker.1 (pid N)",
      "HH:MM:SS worker.1 | bye 1",
      "HH:MM:SS worker.1 | bye 2",
      "HH:MM:SS system   | worker.1 stopped (rc=0)",
    ]);
  });

  it("later exit codes do not matter: first exits 0, the next exits 7 on TERM → exit 0", async () => {
    const cwd = project({ Procfile: `web: sleep 0.3\nworker: trap 'exit 7' TERM; while :; do sleep 0.05; done\n` });
    const result = await localStart(cwd);
    expect(result.stdout).toContain("worker.1 stopped (rc=7)");
    expect(result.code).toBe(0);
  });

  it("SIGTERM goes to the whole process group: grandchildren stop too", async () => {
    const cwd = project({ Procfile: `web: sleep 0.5\nworker: sleep 30 & echo "child $!"; wait\n` });
    const result = await localStart(cwd);
    const grandchild = Number(result.stdout.match(/child (\d+)/)![1]);
    expect(alive(grandchild)).toBe(false);
    expect(result.stdout).toContain("worker.1 stopped (rc=-15)");
  });

  it("deliberate difference: a first process killed by signal N prints rc=-N and sarge exits 128+N", async () => {
    const cwd = project({ Procfile: `web: kill -9 $$\n` });
    const result = await localStart(cwd);
    expect(result.stdout).toContain("web.1 stopped (rc=-9)");
    expect(result.code).toBe(137);
  });
});

describe("sarge local start: signals to sarge (docs/local.md)", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal}: prints '${signal} received', children get SIGTERM (never SIGINT), exit ${code}`, async () => {
      const cwd = project({ Procfile: `web: ${TRAPPING}\nworker: ${TRAPPING}\n` });
      const run = spawnLocal(["local", "start"], { cwd });
      await run.waitFor(/web\.1 +\| ready[^]*worker\.1 \| ready|worker\.1 \| ready[^]*web\.1 +\| ready/);
      run.signal(signal);
      const result = await run.done;
      expect(result.code).toBe(code);
      const out = normalize(result.stdout);
      expect(out).toContain(`HH:MM:SS system   | ${signal} received\n`);
      expect(out).toContain("HH:MM:SS web.1    | got TERM\n");
      expect(out).toContain("HH:MM:SS worker.1 | got TERM\n");
      expect(out).not.toContain("got INT");
      const lines = out.split("\n");
      const received = lines.indexOf(`HH:MM:SS system   | ${signal} received`);
      expect(lines.slice(received + 1, received + 3).sort()).toEqual([
        "HH:MM:SS system   | sending SIGTERM to web.1 (pid N)",
        "HH:MM:SS system   | sending SIGTERM to worker.1 (pid N)",
      ]);
    });
  }

  it("a signal overrides the exit code already recorded, and a later signal overrides again; SIGTERM is sent once", async () => {
    const cwd = project({
      // web exits once the worker has its trap set (else the SIGTERM finds a plain shell)
      Procfile: `web: sleep 1; exit 3\nworker: trap 'sleep 0.6; echo done; exit 0' TERM; echo ready; while :; do sleep 0.05; done\n`,
    });
    const run = spawnLocal(["local", "start"], { cwd });
    await run.waitFor(/worker\.1 \| ready/);
    await run.waitFor(/web\.1 stopped \(rc=3\)[^]*sending SIGTERM to worker\.1/);
    run.signal("SIGINT");
    await run.waitFor(/SIGINT received/);
    run.signal("SIGTERM");
    const result = await run.done;
    expect(result.stdout).toContain("SIGINT received");
    expect(result.stdout).toContain("SIGTERM received");
    expect(result.stdout.match(/sending SIGTERM/g)).toHaveLength(1);
    expect(result.code).toBe(143);
  });

  it(
    "SIGKILL 5 s after the first stop for what ignores SIGTERM; after a signal alone there is no SIGKILL timer",
    async () => {
      // scenario 1: a process stops, the other ignores SIGTERM → SIGKILL after KILL_WAIT
      const stops = spawnLocal(["local", "start"], { cwd: project({ Procfile: `web: sleep 0.5\nworker: ${STUBBORN}\n` }) });
      // scenario 2: every process ignores SIGTERM and sarge gets SIGINT → it waits, without SIGKILL
      const forever = spawnLocal(["local", "start"], { cwd: project({ Procfile: `web: ${STUBBORN}\nworker: ${STUBBORN}\n` }) });

      await stops.waitFor(/sending SIGTERM to worker\.1/);
      const termAt = Date.now();
      await forever.waitFor(/web\.1 +\| ready[^]*worker\.1 \| ready|worker\.1 \| ready[^]*web\.1 +\| ready/);
      forever.signal("SIGINT");
      const interruptedAt = Date.now();
      await forever.waitFor(/SIGINT received[^]*sending SIGTERM[^]*sending SIGTERM/);

      await stops.waitFor(/sending SIGKILL to worker\.1 \(pid \d+\)/, 8000);
      const killAfter = Date.now() - termAt;
      expect(killAfter).toBeGreaterThan(4500);
      expect(killAfter).toBeLessThan(6500);
      const result = await stops.done;
      expect(result.stdout).toContain("worker.1 stopped (rc=-9)");
      expect(result.code).toBe(0);

      // still waiting more than KILL_WAIT (5 s) after the SIGINT: what is tested is time passing, so this waits for it
      await sleep(interruptedAt + 5_500 - Date.now());
      forever.signal("SIGINT");
      await forever.waitFor(/SIGINT received[^]*SIGINT received/);
      expect(forever.child.exitCode).toBeNull();
      expect(forever.child.signalCode).toBeNull();
      expect(forever.stdout).not.toContain("SIGKILL");
      expect(forever.stdout.match(/sending SIGTERM/g)).toHaveLength(2);
      for (const name of ["web.1", "worker.1"]) killGroup(pidOf(forever.stdout, name));
      const ended = await forever.done;
      expect(ended.code).toBe(130);
      expect(ended.stdout).toContain("web.1 stopped (rc=-9)");
    },
    15_000,
  );

  for (const signal of ["SIGHUP", "SIGQUIT"] as const) {
    it(`${signal} is not handled: sarge dies by it and the children keep running`, async () => {
      const cwd = project({ Procfile: `web: echo ready; exec sleep 30\n` });
      const run = spawnLocal(["local", "start"], { cwd });
      await run.waitFor(/ready/);
      const child = pidOf(run.stdout, "web.1");
      run.signal(signal);
      const result = await run.done;
      expect(result.signal).toBe(signal);
      expect(alive(child)).toBe(true);
      killGroup(child);
    });
  }

  it("when stdout goes away (| head), sarge stops printing and shuts the processes down", async () => {
    const cwd = project({ Procfile: `web: while :; do echo tick; sleep 0.02; done\nworker: echo $$ > worker.pid; exec sleep 30\n` });
    const run = spawnLocal(["local", "start"], { cwd });
    await run.waitFor(/tick/);
    await waitFor(() => existsSync(join(cwd, "worker.pid")), "the worker's pid file");
    run.child.stdout!.destroy();
    const result = await run.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toBe("");
    const worker = Number(readFileSync(join(cwd, "worker.pid"), "utf8"));
    expect(alive(worker)).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { runChild, startChild } from "../../../src/util/run-child.js";

describe("runChild", () => {
  it("collects stdout, stderr and both interleaved, with the exit code", async () => {
    const result = await runChild("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"]);
    expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: "out\n", stderr: "err\n", failure: null });
    expect(result.all.split("\n").sort()).toEqual(["", "err", "out"]);
  });

  it("passes input, cwd and exactly the environment given", async () => {
    const result = await runChild("/bin/sh", ["-c", 'read line; echo "$line $(pwd) ${ONLY-} ${HOME-unset}"'], { input: "hi\n", cwd: "/tmp", env: { ONLY: "x", PATH: "/usr/bin:/bin" } });
    expect(result.stdout).toBe("hi /tmp x unset\n");
  });

  it("says why a program that cannot run did not, without rejecting", async () => {
    const result = await runChild("/nonexistent/program", []);
    expect(result.exitCode).toBeNull();
    expect(result.failure).toContain("/nonexistent/program could not run: spawn /nonexistent/program ENOENT");
  });

  it("stops a child that outlives its timeout", async () => {
    const result = await runChild("/bin/sleep", ["30"], { timeoutMs: 100 });
    expect(result).toMatchObject({ exitCode: null, signal: "SIGTERM", failure: "timed out after 100 ms" });
  });

  it("stops a child when its cancel signal aborts", async () => {
    const cancel = new AbortController();
    const running = runChild("/bin/sleep", ["30"], { cancel: cancel.signal });
    cancel.abort();
    expect(await running).toMatchObject({ exitCode: null, signal: "SIGTERM", failure: "cancelled" });
  });

  it("knows the child's pid before it ends", async () => {
    const child = startChild("/bin/sh", ["-c", "echo $$"]);
    expect((await child.result).stdout.trim()).toBe(String(child.pid));
  });
});

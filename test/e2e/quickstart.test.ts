import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../src/util/package-root.js";
import { processesUsing } from "../support/processes.js";
import { waitFor } from "../support/wait.js";

/** The `$ ` command lines of docs/quickstart.rst between its test markers, in order, with what they should print. */
function quickstartSteps(): Array<{ command: string; expected: string[] }> {
  const text = readFileSync(join(packageRoot, "docs", "quickstart.rst"), "utf8");
  const tested = text.slice(text.indexOf(".. quickstart-test: begin"), text.indexOf(".. quickstart-test: end"));
  const steps: Array<{ command: string; expected: string[] }> = [];
  for (const line of tested.split("\n")) {
    const command = /^ {4}\$ (.*)$/.exec(line);
    if (command) steps.push({ command: command[1]!, expected: [] });
    else if (/^ {4}\S/.test(line) && steps.length > 0) steps.at(-1)!.expected.push(line.trim());
  }
  return steps;
}

describe("docs/quickstart.rst", () => {
  const work = mkdtempSync(join(tmpdir(), "sarge-qs-"));
  const home = join(work, "myapp");
  afterAll(async () => {
    for (const { pid } of processesUsing(home).filter((p) => p.cmdline.includes("supervisord"))) process.kill(pid, "SIGTERM");
    await waitFor(() => processesUsing(home).length === 0, () => `the supervisor to stop everything: ${JSON.stringify(processesUsing(home))}`, 10_000).catch(() => undefined);
    expect(processesUsing(home)).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  });

  it("works as written, command by command", async () => {
    cpSync(join(packageRoot, "examples"), join(work, "examples"), { recursive: true });
    const port = String(await getPort());
    const steps = quickstartSteps();
    expect(steps.length).toBeGreaterThan(10);
    for (const { command, expected } of steps) {
      const script = command.replaceAll("/tmp/quickstart/myapp", home).replaceAll("8000", port);
      const result = spawnSync("bash", ["-c", `set -e; ${script}`], {
        cwd: work,
        env: { ...process.env, SARGE_HOME: home, PATH: `${join(packageRoot, "bin")}:${process.env.PATH}` },
        encoding: "utf8",
        timeout: 120_000,
        stdio: ["ignore", "pipe", "pipe"],
      });
      expect(result.status, `${command}\n${result.stderr}`).toBe(0);
      const shown = expected.map((line) => line.replace(/web-[a-z0-9]{6}/g, "web-ID"));
      if (shown.length > 0) {
        const printed = result.stdout.trim().replace(/web-[a-z0-9]{6}/g, "web-ID");
        expect(printed, command).toBe(shown.join("\n"));
      }
    }
  });
});

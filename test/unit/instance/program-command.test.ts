import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { programCommand } from "../../../src/instance/program-command.js";

const none = { nofile: null, memoryBytes: null };
const run = (command: string) => execFileSync("/bin/sh", ["-c", command], { encoding: "utf8" }).trim();

describe("programCommand", () => {
  it.each([
    ["python app.py", "exec python app.py"],
    ["gunicorn -b 127.0.0.1:$PORT app:app", "exec gunicorn -b 127.0.0.1:$PORT app:app"],
    ["  celery -A proj worker  ", "exec celery -A proj worker"],
  ])("execs a lone simple command, so the app is the main process: %s", (command, expected) => {
    expect(programCommand(command, none)).toEqual({ command: expected, appIsMain: true });
  });

  it.each([
    ["exec python app.py", true],
    ["cd src && exec python app.py", true],
    ["cd src && python app.py", false],
    ["FOO=1 python app.py", false],
    ["python app.py | tee out.log", false],
    ["sleep 1 & python app.py", false],
    ['python -c "import a; a.run()"', false],
    ["if true; then python app.py; fi", false],
  ])("leaves %j as it is (the app is main: %s)", (command, appIsMain) => {
    expect(programCommand(command, none)).toEqual({ command, appIsMain });
  });

  it("sets nofile and memory (RLIMIT_DATA, KiB) in the shell before the command, which inherits them", () => {
    const { command } = programCommand("cat /proc/self/limits", { nofile: 256, memoryBytes: 64 * 1024 ** 2 });
    expect(command).toBe("ulimit -n 256 && ulimit -d 65536 || exit 1; exec cat /proc/self/limits");
    const limits = run(command);
    expect(limits).toMatch(/^Max open files\s+256\s+256\s+files\s*$/m);
    expect(limits).toMatch(/^Max data size\s+67108864\s+67108864\s+bytes\s*$/m);
  });

  it("does not run the command when a limit cannot be set", () => {
    expect(() => run(programCommand("echo ran", { nofile: 1_048_576 * 64, memoryBytes: null }).command)).toThrow();
  });
});

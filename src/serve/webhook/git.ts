import { spawn, type ChildProcess } from "node:child_process";
import { homedir } from "node:os";
import { SargeError } from "../../util/errors.js";

/**
 * git as the server runs it: a scrubbed environment (none of the server's
 * GIT_* or credentials helpers' variables), no prompt ever (no terminal, its
 * own session so ssh finds no /dev/tty to ask on), stdin closed.
 */
export function spawnGit(args: string[]): ChildProcess {
  const env = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: process.env.HOME ?? homedir(),
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
  };
  return spawn("git", args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
}

export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs git to its end; after `timeoutMs` its whole process group (ssh, remote helpers) is killed. */
export function runGit(args: string[], timeoutMs: number): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawnGit(args);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\ngit took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      reject(new SargeError(missing ? "git is not installed (looked for it on PATH)" : `git could not run: ${error.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The line of git's stderr that says what went wrong: its first fatal/error line, else its last line. */
export function gitMessage(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return lines.find((line) => /^(?:fatal|error):/.test(line)) ?? lines.pop() ?? "no message";
}

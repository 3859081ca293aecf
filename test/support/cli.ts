import { spawn } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../../src/util/package-root.js";

export const sargeBin = join(packageRoot, "bin", "sarge");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Bytes for stdin; omitted = stdin closed empty. */
  input?: Buffer | string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with each chunk of stderr as it arrives (progress lines). */
  onStderr?(chunk: string): void;
  timeoutMs?: number;
}

/** Run the built CLI as a user would, as a separate process. */
export function runSarge(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sargeBin, ...args], {
      cwd: options.cwd ?? packageRoot,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(chunk.toString());
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

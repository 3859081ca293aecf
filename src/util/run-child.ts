import { spawn } from "node:child_process";

export interface ChildOptions {
  cwd?: string;
  /** The child's whole environment; default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** SIGTERM to the child after this many ms. */
  timeoutMs?: number;
  /** SIGTERM to the child when this aborts. */
  cancel?: AbortSignal;
}

export interface ChildResult {
  /** null when the child was killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
  /** Why the child did not run or did not end by itself (spawn error, timeout); null otherwise. */
  failure: string | null;
}

/**
 * Run a program (no shell) and collect its output; never rejects. What sarge
 * needs of a child process, in one small module: execa's ~140 module files
 * cost a deploy more start-up than the children it runs.
 */
export function startChild(file: string, args: readonly string[], options: ChildOptions = {}): { pid: number | undefined; result: Promise<ChildResult> } {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  child.stdout!.setEncoding("utf8").on("data", (text: string) => void (out.push(text), all.push(text)));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => void (err.push(text), all.push(text)));
  if (options.input !== undefined) {
    child.stdin!.on("error", () => undefined); // a child that exits without reading its input
    child.stdin!.end(options.input);
  }
  let failure: string | null = null;
  let started = true;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          failure ??= `timed out after ${options.timeoutMs} ms`;
          child.kill("SIGTERM");
        }, options.timeoutMs);
  const cancel = () => {
    failure ??= "cancelled";
    child.kill("SIGTERM");
  };
  if (options.cancel?.aborted) cancel();
  else options.cancel?.addEventListener("abort", cancel, { once: true });
  const result = new Promise<ChildResult>((resolve) => {
    child.once("error", (error) => {
      started = false;
      failure ??= `${file} could not run: ${error.message}`;
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      options.cancel?.removeEventListener("abort", cancel);
      resolve({ exitCode: started ? code : null, signal, stdout: out.join(""), stderr: err.join(""), all: all.join(""), failure });
    });
  });
  return { pid: child.pid, result };
}

export function runChild(file: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return startChild(file, args, options).result;
}

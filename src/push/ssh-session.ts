import { spawn } from "node:child_process";
import { ACTIVATED, HELD_COMMANDS, HELD_PREPARES, PREPARED, SWITCHED } from "../release/hold-protocol.js";
import { SargeError } from "../util/errors.js";
import { shellQuote } from "../util/shell-quote.js";
import { formatTarget, remoteSarge, sshArgv, sshDestination, type PushTarget } from "./push.js";
import { lastWords, type HeldLock, type HostSession, type RemoteResult } from "./session.js";

/** A host reached by ssh: each command is one `ssh [sshOptions] host env K=V <home>/bin/sarge …` (the user's ~/.ssh/config applies). */
export function sshSession(target: PushTarget, sshCommand: string, sshOptions: string[] = []): HostSession {
  const argv = (args: string[], env: Record<string, string> = {}) => {
    const assignments = Object.entries(env).map(([key, value]) => shellQuote(`${key}=${value}`));
    const remote = [...(assignments.length > 0 ? ["env", ...assignments] : []), remoteSarge(target.home), ...args.map(shellQuote)].join(" ");
    return sshArgv(sshCommand, [...sshOptions, ...sshDestination(target), remote]);
  };
  return {
    name: target.host,
    label: formatTarget(target),
    sarge: (args, options = {}) => runArgv(argv(args, options.env), options.input),
    hold: (waitSeconds, env) => hold(argv(["hold", "--wait-lock", String(waitSeconds)], env), formatTarget(target)),
  };
}

/** Run a local program (ssh) to completion; its output kept, `input` on its stdin. */
export function runArgv(argv: string[], input?: Buffer): Promise<RemoteResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input ? "pipe" : "ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // a remote command that exits before reading all of its input closes the pipe: its exit code says what happened
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
    child.once("error", (error) => resolve({ code: 255, stdout, stderr: `${stderr}${argv[0]} could not run: ${error.message}\n` }));
    child.once("close", (code, signal) => resolve({ code: code ?? 255, stdout, stderr: signal ? `${stderr}ssh killed by ${signal}\n` : stderr }));
  });
}

/**
 * `sarge hold` on the host: resolves once it prints `held <token>`; the lock
 * is held until our end of its stdin closes. When it says it runs requests,
 * each goes as a JSON line on its stdin and its reply comes back as a line.
 */
function hold(argv: string[], label: string): Promise<HeldLock> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let held = false;
    // what answers the next line in turn, and the final answer of an activation that said `switched`
    const waiting: Array<(line: string) => void> = [];
    let activating: ((result: RemoteResult) => void) | null = null;
    // the failure every request gets once the session ended; lost: it ended before release() was asked
    let ended: string | null = null;
    let releasing = false;
    let lost = false;
    const exited = new Promise<void>((done) => child.once("close", () => done()));
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      for (let end = stdout.indexOf("\n"); end >= 0; end = stdout.indexOf("\n")) {
        const line = stdout.slice(0, end);
        stdout = stdout.slice(end + 1);
        // a prepared activation says so out of turn; the push tells it `go` when its turn comes, whenever that is
        if (held && line.startsWith(`${PREPARED} `)) continue;
        if (held && line.startsWith(`${ACTIVATED} `)) {
          activating?.(heldReply(line.slice(ACTIVATED.length + 1)));
          activating = null;
        } else if (held) waiting.shift()?.(line);
        else if ((held = /^held \S+/.test(line))) resolve(heldLock(line));
      }
    });
    const heldLock = (line: string): HeldLock => ({
      token: line.split(" ")[1]!,
      run: line.endsWith(` ${HELD_COMMANDS}`)
        ? (request, told = {}) =>
            new Promise((answered) => {
              if (ended !== null) return answered(heldReply(ended));
              waiting.push((reply) => {
                if (!reply.startsWith(`${SWITCHED} `)) return answered(heldReply(reply));
                activating = answered;
                told.switched?.({ code: 0, stdout: reply.slice(SWITCHED.length + 1), stderr: "" });
              });
              child.stdin.write(`${JSON.stringify(request)}\n`);
            })
        : null,
      ...(line.split(" ").includes(HELD_PREPARES) && { tell: (word: "go" | "abort") => void (ended === null && child.stdin.write(`${word}\n`)) }),
      lost: () => lost,
      release: async () => {
        releasing = true;
        child.stdin.end();
        await exited;
      },
    });
    child.once("error", (error) => reject(new SargeError(`${label}: ${argv[0]} could not run: ${error.message}`)));
    child.once("close", (code) => {
      const said = lastWords({ code: code ?? 255, stdout: "", stderr });
      ended = `failed ${JSON.stringify(`the hold session ended: ${said}`)}`;
      lost = !releasing;
      for (const reply of waiting.splice(0)) reply(ended);
      activating?.(heldReply(ended));
      reject(new SargeError(`${label}: could not take the deploy lock: ${said}`));
    });
  });
}

/** A reply of the hold as the command's own result would be: its JSON on stdout, or its error on stderr. */
function heldReply(line: string): RemoteResult {
  const [word, json] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
  if (word === "ok") return { code: 0, stdout: json, stderr: "" };
  if (word === "failed") return { code: 1, stdout: "", stderr: `sarge: ${String(JSON.parse(json))}\n` };
  return { code: 255, stdout: "", stderr: `sarge: the hold answered ${line.slice(0, 200)}\n` };
}

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { delimiter, isAbsolute, join, relative, resolve } from "node:path";
import { readDotenvFiles } from "../procfile/dotenv.js";
import { processTypePattern } from "../procfile/parse.js";
import { SargeError } from "../util/errors.js";
import { shellQuote } from "../util/shell-quote.js";
import { TARGET_FORMAT } from "./target-format.js";

/**
 * `sarge push`: `git archive HEAD | ssh <host> <home>/bin/sarge deploy - <procs>`
 * from a developer's checkout (docs/reference.md, `sarge push`).
 */

/** Where a push goes: `[user@]host[:port]:/path/to/home`. */
export interface PushTarget {
  user: string | null;
  host: string;
  port: number | null;
  /** Absolute, or `~/...` (relative to the remote user's home folder). */
  home: string;
}

export interface PushOptions {
  /** The target as given on the command line; else SARGE_TARGET from the env file, else from the environment. */
  target?: string;
  /** Process types to deploy (default: web). */
  procs: string[];
  /** Deploy the working tree as it is (tracked changes and untracked, not ignored, files). */
  dirty?: boolean;
  /** The ssh command, run by /bin/sh with the ssh arguments appended; else SARGE_SSH, else `ssh`. */
  ssh?: string;
  /** The env file read for SARGE_TARGET and SARGE_SSH (default `.env` in cwd). */
  envFile?: string;
  /** Print what would run, run nothing remote. */
  dryRun?: boolean;
  cwd?: string;
  /** Where sarge push's own lines go (default: stderr). */
  say?: (line: string) => void;
}

/** How the pieces of a push were resolved (also what --dry-run prints). */
export interface PushPlan {
  target: PushTarget;
  targetSource: string;
  procs: string[];
  /** What `git archive` is given: "HEAD" or the id of a tree holding the working tree. */
  treeish: string;
  /** The commit deployed, null for a --dirty push of a changed tree (no commit id is recorded then). */
  commit: string | null;
  /** The ssh command line (program and its arguments) as run. */
  ssh: string[];
  /** The command the remote shell runs. */
  remote: string;
  /** A command line that checks the connection alone, as the user would type it (their --ssh command as given). */
  sshCheck: string;
}

const targetPattern = /^(?:([^@\s:/]+)@)?([A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?:((?:\/|~\/).*)$/;

/** Parse `[user@]host[:port]:/path/to/home`; `source` names where it came from, for the error. */
export function parseTarget(text: string, source = "the target"): PushTarget {
  const match = targetPattern.exec(text.trim());
  const port = match?.[3] === undefined ? null : Number(match[3]);
  if (!match || match[2]!.startsWith("-") || (port !== null && (port < 1 || port > 65535)) || /[\0\n]/.test(match[4]!)) {
    throw new SargeError(`${source} ${JSON.stringify(text)} is not ${TARGET_FORMAT}`, {
      exitCode: 2,
      detail: [
        "Examples: deploy@app1.example.com:/var/local/myapp, app1:2222:/var/local/myapp, app1:~/myapp.",
        "host may be an alias from ~/.ssh/config (User, Port, IdentityFile and the rest apply).",
      ].join("\n"),
    });
  }
  return { user: match[1] ?? null, host: match[2]!, port, home: match[4]!.replace(/\/+$/, "") || "/" };
}

export function formatTarget(target: PushTarget): string {
  return `${target.user ? `${target.user}@` : ""}${target.host}${target.port === null ? "" : `:${target.port}`}:${target.home}`;
}

/** A home's `bin/sarge`, quoted for the remote shell; a leading `~/` stays unquoted so it expands. */
export function remoteSarge(home: string): string {
  const wrapper = `${home === "/" ? "" : home}/bin/sarge`;
  return wrapper.startsWith("~/") ? `~/${shellQuote(wrapper.slice(2))}` : shellQuote(wrapper);
}

/** What the remote shell runs: `<home>/bin/sarge deploy - <procs>`, quoted. */
export function remoteCommand(home: string, procs: string[]): string {
  return [remoteSarge(home), "deploy", "-", ...procs].join(" ");
}

/** ssh's arguments that pick the host: `[-p port] [user@]host`. */
export function sshDestination(target: PushTarget): string[] {
  const destination = `${target.user ? `${target.user}@` : ""}${target.host.replace(/^\[(.*)\]$/, "$1")}`;
  return [...(target.port === null ? [] : ["-p", String(target.port)]), destination];
}

/** ssh's arguments after the program: `[-p port] [user@]host <remote command>`. */
export function sshArguments(target: PushTarget, procs: string[]): string[] {
  return [...sshDestination(target), remoteCommand(target.home, procs)];
}

/** The program and arguments that run `sshCommand` (a plain `ssh`, or the user's command run by /bin/sh) with `args` appended. */
export function sshArgv(sshCommand: string, args: string[]): string[] {
  return sshCommand === "ssh" ? ["ssh", ...args] : ["/bin/sh", "-c", `${sshCommand} "$@"`, "ssh", ...args];
}

/** Work out what to push, checking the repository; throws a SargeError for every problem. */
export function planPush(options: PushOptions): PushPlan {
  const cwd = resolve(options.cwd ?? process.cwd());
  const procs = options.procs.length > 0 ? [...new Set(options.procs)] : ["web"];
  for (const proc of procs) {
    if (!processTypePattern.test(proc)) {
      throw new SargeError(`invalid process type "${proc}": use letters, digits, _ and - only`, {
        exitCode: 2,
        detail: `A target contains a colon (${TARGET_FORMAT}); "${proc}" was taken as a process type.`,
      });
    }
  }
  const envFile = resolve(cwd, options.envFile ?? ".env");
  const dotenv = readDotenvFiles([envFile]);
  const [targetText, targetSource] =
    options.target !== undefined
      ? [options.target, "the target argument"]
      : dotenv.has("SARGE_TARGET")
        ? [dotenv.get("SARGE_TARGET")!, `SARGE_TARGET in ${envFile}`]
        : // TARGET: the name .env files of the fabfile flow used (honcho run fab deploy)
          dotenv.has("TARGET")
          ? [dotenv.get("TARGET")!, `TARGET in ${envFile}`]
          : process.env.SARGE_TARGET
          ? [process.env.SARGE_TARGET, "$SARGE_TARGET"]
          : [null, ""];
  if (targetText === null) {
    throw new SargeError("no target to push to", {
      exitCode: 2,
      detail: [
        `Give one (sarge push deploy@app1:/var/local/myapp web), or set SARGE_TARGET=${TARGET_FORMAT}`,
        `in ${envFile} or the environment.`,
      ].join("\n"),
    });
  }
  const target = parseTarget(targetText, targetSource);
  const sshCommand = options.ssh ?? dotenv.get("SARGE_SSH") ?? process.env.SARGE_SSH ?? "ssh";

  const { treeish, commit } = checkoutSource(cwd, envFile, options.dirty ?? false);
  const remote = remoteCommand(target.home, procs);
  const args = sshArguments(target, procs);
  const ssh = sshArgv(sshCommand, args);
  const sshCheck = [sshCommand, ...args.slice(0, -1).map(shellQuote), "true"].join(" ");
  return { target, targetSource, procs, treeish, commit, ssh, remote, sshCheck };
}

/** What a push deploys from the checkout at `cwd`: HEAD, or with `dirty` the working tree; refuses uncommitted changes otherwise. */
export function checkoutSource(cwd: string, envFile: string, dirty: boolean): { treeish: string; commit: string | null } {
  const toplevel = git(cwd, ["rev-parse", "--show-toplevel"], () =>
    new SargeError(`${cwd} is not inside a git repository`, {
      detail: "sarge push deploys `git archive HEAD`: run it in the checkout (the folder with the Procfile), or pipe any archive to `sarge deploy -` yourself.",
    }),
  );
  const head = git(cwd, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], () =>
    new SargeError("the repository has no commit yet: commit the application first"),
  ).trim();
  // an untracked env file holds the target and is usually not committed: it is no uncommitted change of the app
  const untrackedEnvFile = `?? ${relative(toplevel.trim(), envFile)}`;
  const changes = git(cwd, ["status", "--porcelain", "--", "."])
    .split("\n")
    .filter((line) => line !== "" && line !== untrackedEnvFile);

  let treeish = "HEAD";
  let commit: string | null = head;
  if (changes.length > 0) {
    if (!dirty) {
      const shown = changes.slice(0, 10).map((line) => `  ${line}`);
      if (changes.length > 10) shown.push(`  … and ${changes.length - 10} more`);
      throw new SargeError(`uncommitted changes: sarge push deploys HEAD (${head.slice(0, 12)}), which is not what is in this folder`, {
        detail: [...shown, "Commit them, or push the working tree as it is with --dirty (no commit id is recorded then)."].join("\n"),
      });
    }
    treeish = workingTree(cwd);
    commit = null;
  }
  return { treeish, commit };
}

/**
 * Push: plan, then `git archive <treeish> | ssh ...` with the deploy's output
 * streamed through. Resolves with the exit code to use: the remote deploy's
 * (ssh passes it through), 255 when ssh itself failed.
 */
export async function push(options: PushOptions): Promise<number> {
  const say = options.say ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const cwd = resolve(options.cwd ?? process.cwd());
  const plan = planPush(options);
  const what = plan.commit ? `HEAD (${plan.commit.slice(0, 12)})` : `the working tree (uncommitted changes, tree ${plan.treeish.slice(0, 12)})`;
  say(`sarge push: ${what} to ${formatTarget(plan.target)}: ${plan.remote}`);
  if (options.dryRun) {
    say(`would run: git archive --format=tar ${plan.treeish} | ${plan.ssh.map(shellQuote).join(" ")}`);
    return 0;
  }
  if (plan.ssh[0] === "ssh" && !onPath("ssh")) {
    throw new SargeError("ssh is not installed (looked for it on PATH)", { detail: "Install the OpenSSH client (Debian: apt-get install openssh-client)." });
  }

  const archive = spawn("git", ["archive", "--format=tar", plan.treeish], { cwd, stdio: ["ignore", "pipe", "inherit"] });
  const ssh = spawn(plan.ssh[0]!, plan.ssh.slice(1), { cwd, stdio: [archive.stdout, "inherit", "inherit"] });
  // The ssh child holds its own copy of the pipe; ours would keep git from seeing ssh go away.
  archive.stdout.destroy();
  const [archived, shipped] = await Promise.all([exited(archive), exited(ssh)]);
  if (archived.error) throw new SargeError(`git archive could not run: ${archived.error.message}`);
  if (shipped.error) throw new SargeError(`${plan.ssh[0]} could not run: ${shipped.error.message}`);
  if (archived.code !== 0 && shipped.code !== 255) {
    throw new SargeError(`git archive ${plan.treeish} failed (${describeExit(archived)}); the deploy got a broken archive and stopped`, {
      exitCode: shipped.code || 1,
    });
  }
  if (shipped.code === 255) {
    throw new SargeError(`ssh to ${plan.target.host} failed (exit 255; its message is above)`, {
      exitCode: 255,
      detail: `Check that \`${plan.sshCheck}\` works: host, port, user and key (ssh-add, ~/.ssh/config).`,
    });
  }
  if (shipped.code === 126 || shipped.code === 127) {
    throw new SargeError(`the remote shell could not run ${plan.remote.split(" ")[0]} (exit ${shipped.code})`, {
      exitCode: shipped.code,
      detail: `Is ${plan.target.home} a sarge home on ${plan.target.host}? Create one there with \`sarge init ${plan.target.home}\`.`,
    });
  }
  return shipped.code;
}

/** `git archive --format=tar <treeish>` of the checkout, in memory: a fleet push sends the same bytes to every host. */
export function archiveBytes(cwd: string, treeish: string): Buffer {
  const result = spawnSync("git", ["archive", "--format=tar", treeish], { cwd, maxBuffer: 2 ** 30 });
  if (result.error || result.status !== 0) {
    throw new SargeError(`git archive ${treeish} failed`, { detail: result.error?.message ?? (result.stderr.toString().trim() || `exit ${result.status}`) });
  }
  return result.stdout;
}

/** A tree object holding the working tree as `git add -A` sees it, built in a private index (the real index is not touched). */
function workingTree(cwd: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sarge-push-"));
  try {
    const index = join(dir, "index");
    const realIndex = resolve(cwd, git(cwd, ["rev-parse", "--git-path", "index"]).trim());
    if (existsSync(realIndex)) copyFileSync(realIndex, index);
    const env = { ...process.env, GIT_INDEX_FILE: index };
    if (!existsSync(index)) git(cwd, ["read-tree", "HEAD"], undefined, env);
    git(cwd, ["add", "--all", "--", ":/"], undefined, env);
    return git(cwd, ["write-tree"], undefined, env).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run git, return its stdout; a failure is `onError()` or a SargeError with git's message. */
function git(cwd: string, args: string[], onError?: () => SargeError, env?: NodeJS.ProcessEnv): string {
  const result = spawnSync("git", args, { cwd, env: env ?? process.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new SargeError(missing ? "git is not installed (looked for it on PATH)" : `git could not run: ${result.error.message}`);
  }
  if (result.status !== 0) {
    if (onError) throw onError();
    throw new SargeError(`git ${args.join(" ")} failed in ${cwd}`, { detail: result.stderr.trim() || `exit ${result.status}` });
  }
  return result.stdout;
}

interface Exit {
  code: number;
  signal: NodeJS.Signals | null;
  error: Error | null;
}

function exited(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: 1, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code: signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1), signal, error: null }));
  });
}

function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit ${exit.code}`;
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && isAbsolute(dir) && existsSync(join(dir, program)));
}

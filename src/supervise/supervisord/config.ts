/**
 * Files for the supervisord backend: `etc/supervisor/supervisord.conf`, one
 * include file per program under `etc/supervisor/programs/`, and the
 * `sarge.restarter` event listener script.
 *
 * How supervisord reads a program's `command=` (supervisor 4.2.5, measured in
 * test/unit/supervise/supervisord/config.test.ts against supervisor's own parser):
 *  1. Python configparser: a `;` or `#` preceded by whitespace starts an inline
 *     comment (no escape exists); lines are split on \n, \r and \r\n; each line
 *     is stripped; continuation lines must be indented and are joined with \n.
 *  2. `%(here)s` is replaced, then Python %-formatting (`%%` is a literal %).
 *  3. shlex.split (POSIX): single quotes keep everything literal.
 * So every argument is single-quoted, `''` (close + reopen: nothing) is put
 * wherever a character would otherwise be stripped or start a comment, a
 * newline becomes an indented continuation line, and % is doubled. A carriage
 * return cannot survive step 1 and is refused.
 *
 * What supervisord does to a child that sarge's contract does not want
 * (measured): the environment is supervisord's own plus SUPERVISOR_* plus
 * `environment=`, which it parses with a non-POSIX shlex that strips quote
 * characters from both ends of every value (`"quoted"` arrives as `quoted`)
 * and cannot carry a value holding both quote kinds; stdin is a pipe from
 * supervisord, and so are stdout and stderr (a program writing to them after
 * supervisord died gets EPIPE); the child only calls setpgrp(), so it stays in
 * supervisord's session; and SIGPIPE and SIGXFSZ stay ignored (inherited from
 * Python). So a program's command is a launcher script run by supervisord's
 * own Python (templates/supervisord/launcher.py.hbs) that fixes all of that
 * and execs `/bin/sh -c <command>` with exactly spec.env, or adopts the
 * program's process when a killed supervisord left it running.
 */
import { chmod, mkdir, readFile } from "node:fs/promises";
import { accessSync, constants as fsConstants, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { delimiter, join } from "node:path";
import { writeFileAtomic } from "../../util/atomic-file.js";

import { SargeError } from "../../util/errors.js";
import type { HomePaths } from "../../home/paths.js";
import { renderTemplate } from "../../util/templates.js";
import type { ProgramSpec } from "../supervisor.js";
import type { StopTarget } from "../../util/process-group.js";

/** supervisord group/process name of the event listener; a dot never occurs in program names. */
export const RESTARTER_NAME = "sarge.restarter";
export const PROGRAM_NAME = /^[A-Za-z0-9_-]+$/;

export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/**
 * Quick exits (within startsecs) supervisord retries, 1 s, 2 s ... N s apart,
 * before FATAL; 60 keeps every wait at or under a minute, like the builtin's cap.
 */
export const DEFAULT_START_RETRIES = 60;
/** How long sarge.restarter leaves a FATAL program before starting it again. */
export const DEFAULT_FATAL_RETRY_SECONDS = 60;
/** Log rotation when ProgramSpec.logs is not set (10 MB × 5, as the builtin). */
export const LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_BACKUPS = 5;

// ---------------------------------------------------------------- paths

export function supervisordConfPath(paths: HomePaths): string {
  return join(paths.supervisorEtc, "supervisord.conf");
}
export function programsDir(paths: HomePaths): string {
  return join(paths.supervisorEtc, "programs");
}
export function programConfPath(paths: HomePaths, name: string): string {
  return join(programsDir(paths), `${name}.conf`);
}
export function restarterScriptPath(paths: HomePaths): string {
  return join(paths.supervisorEtc, "sarge-restarter.py");
}
export function launcherScriptPath(paths: HomePaths): string {
  return join(paths.supervisorEtc, "sarge_launcher.py");
}
/** One JSON file per program, written by the launcher: the process it started (see launcher.py.hbs). */
export function programRecordsDir(paths: HomePaths): string {
  return join(paths.run, "supervisord-programs");
}
export function programRecordPath(paths: HomePaths, name: string): string {
  return join(programRecordsDir(paths), `${name}.json`);
}
/** Written by sarge.restarter: `{ "<program>": <automatic restarts> }`. */
export function restartCountsPath(paths: HomePaths): string {
  return join(paths.run, "supervisord-restarts.json");
}
export function supervisordLogPath(paths: HomePaths): string {
  return join(paths.log, "supervisord.log");
}
export function supervisordPidPath(paths: HomePaths): string {
  return join(paths.run, "supervisord.pid");
}

// ---------------------------------------------------------------- quoting

/** Characters Python's str.isspace() accepts (what configparser's strip() removes). */
const PY_SPACE = /^[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;
const isPySpace = (c: string): boolean => PY_SPACE.test(c);

export class UnrepresentableError extends SargeError {}

/**
 * One argv element as shlex-quoted, %-escaped, configparser-safe text (see the
 * module comment). Multi-line values continue on indented lines.
 */
export function iniShellWord(arg: string, what: string): string {
  if (arg.includes("\0")) throw new UnrepresentableError(`${what} contains a NUL byte`);
  if (arg.includes("\r")) {
    throw new UnrepresentableError(`${what} contains a carriage return, which supervisord's config format cannot carry`, {
      detail: "supervisord reads its config files with universal newlines; use the builtin supervisor, or remove the \\r",
    });
  }
  let out = "'";
  let prev = "'";
  const chars = Array.from(arg);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "'") {
      out += `'"'"'`;
      prev = "'";
    } else if (c === "\n") {
      if (isPySpace(prev)) out += "''"; // the line's end is stripped
      out += "\n\t''"; // continuation line; its start is stripped
      prev = "'";
    } else if (c === "%") {
      out += "%%";
      prev = "%";
      if (chars[i + 1] === "(") {
        out += "''"; // `%%(here)s` would still contain `%(here)s`, which supervisord replaces first
        prev = "'";
      }
    } else {
      if ((c === ";" || c === "#") && isPySpace(prev)) out += "''"; // would start an inline comment
      out += c;
      prev = c;
    }
  }
  return out + "'";
}

/** A whole command line: argv elements quoted and joined. */
export function iniCommandLine(argv: readonly string[], what: string): string {
  return argv.map((a) => iniShellWord(a, what)).join(" ");
}

/**
 * A path for a plain value (directory=, stdout_logfile=, logfile=...): % escaped
 * for `expansions` rounds of %-formatting (supervisord 4.2.5 expands
 * stdout_logfile/stderr_logfile twice, everything else once); refused when
 * configparser would cut or strip it.
 */
export function iniPath(value: string, what: string, expansions: 1 | 2 = 1): string {
  const refuse = (why: string): never => {
    throw new UnrepresentableError(`${what} ${JSON.stringify(value)} ${why}, which supervisord's config format cannot carry`);
  };
  if (!value.startsWith("/")) throw new SargeError(`${what} must be an absolute path, got ${JSON.stringify(value)}`);
  if (/[\0\n\r]/.test(value)) refuse("contains a line break or NUL");
  const chars = Array.from(value);
  if (isPySpace(chars[chars.length - 1]!)) refuse("ends with white space");
  for (let i = 1; i < chars.length; i++) {
    if ((chars[i] === ";" || chars[i] === "#") && isPySpace(chars[i - 1]!)) refuse(`has white space before ${chars[i]}`);
  }
  if (value.includes("%(here)s")) refuse("contains %(here)s");
  return value.replace(/%/g, expansions === 2 ? "%%%%" : "%%");
}

// ---------------------------------------------------------------- rendering

type TemplateName = "supervisord.conf" | "program.conf" | "restarter.py" | "launcher.py";

function template(name: TemplateName): (data: object) => string {
  return (data) => renderTemplate(`supervisord/${name}`, data);
}

export interface ProgramRenderOptions {
  /** Whether sarge wants the program running (supervisord's autostart). */
  autostart: boolean;
  /** Interpreter for the launcher: supervisord's own (supervisordPython). */
  python: string;
  /** The home: where the launcher script and the program's record are. */
  paths: HomePaths;
  startRetries?: number;
}

export function validateProgramName(name: string): void {
  if (!PROGRAM_NAME.test(name)) {
    throw new SargeError(`invalid program name ${JSON.stringify(name)}: use letters, digits, _ and -`);
  }
}

/** `SIGUSR1` → `USR1`; refuses what Node does not know as a signal. */
export function supervisordSignal(signal: string): string {
  const upper = signal.toUpperCase();
  const full = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  if (!(full in osConstants.signals) || full === "SIGKILL" || full === "SIGSTOP") {
    throw new SargeError(`invalid stop signal ${JSON.stringify(signal)}`);
  }
  return full.slice(3);
}

/** What the launcher needs besides the command: where to record the process, its log, how it stops. */
export interface LauncherSettings {
  record: string;
  log: string;
  stopSignal: number;
  stopTo: StopTarget;
  stopWaitSecs: number;
  maxBytes: number;
  keep: number;
}

/** The argv supervisord runs for a program: the launcher, its settings, the command, then exactly spec.env. */
export function programArgv(spec: ProgramSpec, python: string, paths: HomePaths): string[] {
  const assignments = Object.entries(spec.env)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => {
      if (key === "" || key.includes("=") || key.includes("\0")) {
        throw new SargeError(`invalid environment variable name ${JSON.stringify(key)} for ${spec.name}`);
      }
      return `${key}=${value}`;
    });
  return [python, "-I", "-S", launcherScriptPath(paths), JSON.stringify(launcherSettings(spec, paths)), spec.command, ...assignments];
}

function launcherSettings(spec: ProgramSpec, paths: HomePaths): LauncherSettings {
  const stopTimeoutMs = spec.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  if (!Number.isFinite(stopTimeoutMs) || stopTimeoutMs < 0) throw new SargeError(`invalid stop timeout ${stopTimeoutMs} ms`);
  const maxBytes = spec.logs?.maxBytes ?? LOG_MAX_BYTES;
  const keep = spec.logs?.keep ?? LOG_BACKUPS;
  if (!Number.isInteger(maxBytes) || maxBytes < 1 || !Number.isInteger(keep) || keep < 0) {
    throw new SargeError(`invalid log rotation for ${spec.name}: ${maxBytes} bytes × ${keep}`);
  }
  return {
    record: programRecordPath(paths, spec.name),
    log: spec.logFile,
    stopSignal: osConstants.signals[`SIG${supervisordSignal(spec.stopSignal ?? "SIGTERM")}` as NodeJS.Signals],
    stopTo: spec.stopTo ?? "group",
    stopWaitSecs: Math.max(1, Math.ceil(stopTimeoutMs / 1000)),
    maxBytes,
    keep,
  };
}

export function renderProgramConf(spec: ProgramSpec, options: ProgramRenderOptions): string {
  validateProgramName(spec.name);
  const settings = launcherSettings(spec, options.paths);
  return template("program.conf")({
    name: spec.name,
    command: iniCommandLine(programArgv(spec, options.python, options.paths), `the command or environment of ${spec.name}`),
    directory: iniPath(spec.cwd, `the folder of ${spec.name}`),
    autostart: options.autostart ? "true" : "false",
    startRetries: options.startRetries ?? DEFAULT_START_RETRIES,
    stopSignal: supervisordSignal(spec.stopSignal ?? "SIGTERM"),
    stopWaitSecs: settings.stopWaitSecs,
    stopAsGroup: settings.stopTo === "group" ? "true" : "false",
    logFile: iniPath(spec.logFile, `the log file of ${spec.name}`, 2),
    logMaxBytes: settings.maxBytes,
    logBackups: settings.keep,
  });
}

export interface SupervisordConfigOptions {
  /** Seconds a FATAL program waits before sarge.restarter starts it again. */
  fatalRetrySeconds?: number;
  /** Interpreter for sarge.restarter; the one in supervisord's #! line unless set. */
  python?: string;
}

export function renderSupervisordConf(paths: HomePaths, python: string, options: SupervisordConfigOptions = {}): string {
  const retrySeconds = options.fatalRetrySeconds ?? DEFAULT_FATAL_RETRY_SECONDS;
  return template("supervisord.conf")({
    home: paths.root.replace(/[\r\n]/g, " "),
    socket: iniPath(paths.supervisorSocket, "the supervisor socket"),
    logfile: iniPath(supervisordLogPath(paths), "the supervisord log"),
    pidfile: iniPath(supervisordPidPath(paths), "the supervisord pid file"),
    childlogdir: iniPath(paths.log, "the log folder"),
    retrySeconds,
    restarterCommand: iniCommandLine([python, "-u", restarterScriptPath(paths)], "the restarter command"),
    restarterLog: iniPath(join(paths.log, "supervisord-restarter.log"), "the restarter log", 2),
  });
}

export function renderRestarter(paths: HomePaths, options: SupervisordConfigOptions = {}): string {
  return template("restarter.py")({
    socket: JSON.stringify(paths.supervisorSocket),
    programs: JSON.stringify(programsDir(paths)),
    counts: JSON.stringify(restartCountsPath(paths)),
    records: JSON.stringify(programRecordsDir(paths)),
    retrySeconds: options.fatalRetrySeconds ?? DEFAULT_FATAL_RETRY_SECONDS,
  });
}

// ---------------------------------------------------------------- files

const AUTOSTART_LINE = /^autostart=(true|false)$/m;

/** Record in a program's include file whether sarge wants it running. False if the file is missing. */
export async function setAutostart(path: string, wanted: boolean): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
  const next = text.replace(AUTOSTART_LINE, `autostart=${wanted}`);
  if (next !== text) writeFileAtomic(path, next);
  return true;
}

/** Whether a program's include file says sarge wants it running; null when there is no file. */
export async function readAutostart(path: string): Promise<boolean | null> {
  try {
    const m = AUTOSTART_LINE.exec(await readFile(path, "utf8"));
    return m ? m[1] === "true" : null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of supervisord: PATH first, then the Debian and pip locations. */
export function findSupervisord(): string {
  const dirs = [...(process.env["PATH"] ?? "").split(delimiter).filter((d) => d.startsWith("/")), "/usr/bin", "/usr/local/bin"];
  for (const dir of dirs) {
    const candidate = join(dir, "supervisord");
    if (isExecutable(candidate)) return candidate;
  }
  throw new SargeError("supervisord not found on PATH", {
    detail: "install it (Debian: apt-get install supervisor), or use `supervisor: builtin`",
  });
}

/**
 * The interpreter supervisord runs under (its #! line), so that sarge.restarter
 * can import the supervisor package: a `python3` on PATH may be another one.
 */
export function supervisordPython(supervisordBin: string): string {
  try {
    const first = readFileSync(supervisordBin, "utf8").slice(0, 200).split("\n", 1)[0] ?? "";
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
    if (m) {
      if (/\/env$/.test(m[1]!) && m[2]) return m[2];
      if (/python/.test(m[1]!)) return m[1]!;
    }
  } catch {
    // not readable: fall through
  }
  return "python3";
}

/** The command line bin/supervisord execs for this backend (foreground). */
export function supervisordCommand(paths: HomePaths): string[] {
  return [findSupervisord(), "--nodaemon", "-c", supervisordConfPath(paths)];
}

/**
 * Create etc/supervisor/ (0700) with supervisord.conf, programs/ and the
 * restarter script (0600), and var/run (0700) and var/log. Idempotent; program
 * include files already there are kept. Returns the supervisord.conf path.
 */
export async function writeSupervisordConfig(paths: HomePaths, options: SupervisordConfigOptions = {}): Promise<string> {
  const python = options.python ?? supervisordPython(findSupervisord());
  await mkdir(programsDir(paths), { recursive: true, mode: 0o700 });
  await chmod(paths.supervisorEtc, 0o700);
  await chmod(programsDir(paths), 0o700);
  await mkdir(paths.run, { recursive: true, mode: 0o700 });
  await chmod(paths.run, 0o700);
  await mkdir(paths.log, { recursive: true });
  await mkdir(programRecordsDir(paths), { recursive: true, mode: 0o700 });
  writeFileAtomic(restarterScriptPath(paths), renderRestarter(paths, options));
  writeFileAtomic(launcherScriptPath(paths), template("launcher.py")({}));
  const conf = supervisordConfPath(paths);
  writeFileAtomic(conf, renderSupervisordConf(paths, python, options));
  return conf;
}

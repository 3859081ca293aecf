import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { homePaths, type HomePaths } from "../../../../src/home/paths.js";
import {
  findSupervisord,
  iniCommandLine,
  iniPath,
  iniShellWord,
  launcherScriptPath,
  programArgv,
  programConfPath,
  readAutostart,
  renderProgramConf,
  renderSupervisordConf,
  restarterScriptPath,
  setAutostart,
  supervisordCommand,
  supervisordConfPath,
  supervisordPython,
  writeSupervisordConfig,
} from "../../../../src/supervise/supervisord/config.js";
import { lastExitsFromLog, mapState } from "../../../../src/supervise/supervisord/backend.js";
import type { ProgramSpec } from "../../../../src/supervise/supervisor.js";

/** supervisord's interpreter, when supervisord is installed (it is in CI: .ci/run installs `supervisor`). */
const python: string | null = (() => {
  try {
    return supervisordPython(findSupervisord());
  } catch {
    return null;
  }
})();

/**
 * Parse a supervisord.conf (and its includes) exactly as `reloadConfig` does,
 * with supervisor's own ServerOptions, and report what supervisord would run.
 */
const PARSE_PY = String.raw`
import json, shlex, sys
from supervisor.options import ServerOptions
o = ServerOptions()
o.configfile = sys.argv[1]
o.process_config(do_usage=False)
s = o.configroot.supervisord
out = {"socket": s.server_configs[0]["file"], "chmod": s.server_configs[0]["chmod"], "logfile": s.logfile,
       "pidfile": s.pidfile, "childlogdir": s.childlogdir, "nodaemon": s.nodaemon, "programs": {}}
for g in s.process_group_configs:
    for p in g.process_configs:
        out["programs"][p.name] = {"group": g.name, "kind": type(g).__name__, "argv": shlex.split(p.command),
            "directory": p.directory, "stdout_logfile": p.stdout_logfile, "autostart": p.autostart,
            "autorestart": getattr(p.autorestart, "__name__", p.autorestart), "startsecs": p.startsecs,
            "startretries": p.startretries, "stopsignal": p.stopsignal, "stopwaitsecs": p.stopwaitsecs,
            "stopasgroup": p.stopasgroup, "killasgroup": p.killasgroup, "redirect_stderr": p.redirect_stderr,
            "environment": p.environment, "maxbytes": p.stdout_logfile_maxbytes, "backups": p.stdout_logfile_backups}
print(json.dumps(out))
`;

interface Parsed {
  socket: string;
  chmod: number;
  logfile: string;
  pidfile: string;
  childlogdir: string;
  nodaemon: boolean;
  programs: Record<
    string,
    {
      group: string;
      kind: string;
      argv: string[];
      directory: string;
      stdout_logfile: string;
      autostart: boolean;
      autorestart: string | boolean;
      startsecs: number;
      startretries: number;
      stopsignal: number;
      stopwaitsecs: number;
      stopasgroup: boolean;
      killasgroup: boolean;
      redirect_stderr: boolean;
      environment: Record<string, string> | null;
      maxbytes: number;
      backups: number;
    }
  >;
}

async function parseWithSupervisor(confPath: string): Promise<Parsed> {
  const { stdout } = await execa(python!, ["-c", PARSE_PY, confPath]);
  return JSON.parse(stdout) as Parsed;
}

// Values that break naive quoting at one of supervisord's three layers.
const NASTY: Record<string, string> = {
  SPACES: "hello sarge!  two  spaces",
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  BOTH: `'"mixed"'`,
  QUOTE_EDGES: '"quoted"',
  PERCENT: "100% sure %s %d %%",
  HERE: "%(here)s and %(ENV_HOME)s and %(program_name)s",
  SEMI: "a ; b",
  HASH: "a # b",
  SEMI_TAB: "a\t;b\t#c",
  LEAD_SEMI: "; leading",
  NEWLINES: "line one\nline two\n\n  indented four\nends with space \nlast",
  TRAILING_NL: "trailing\n",
  TRAILING_SPACE: "trailing ",
  LEADING_SPACE: "  leading",
  EMPTY: "",
  BACKSLASH: "a\\b\\\\c\\n",
  DOLLAR: "$HOME `id` $(id)",
  UNICODE: "héllo wörld ✓ \u00a0;nbsp",
  COMMA_EQ: "k=v,k2=v2",
  BRACKET: "[program:evil]",
};

function spec(overrides: Partial<ProgramSpec> = {}): ProgramSpec {
  return {
    name: "web-k3x9qa",
    command: "exec python app.py",
    cwd: "/srv/home/deploy/web-k3x9qa",
    env: { PORT: "5010" },
    logFile: "/srv/home/var/log/web-k3x9qa.log",
    ...overrides,
  };
}

describe("iniShellWord / iniPath", () => {
  test("plain words are single-quoted", () => {
    expect(iniCommandLine(["/bin/sh", "-c", "exec app"], "x")).toBe("'/bin/sh' '-c' 'exec app'");
  });

  test("single quotes are closed, given in double quotes, reopened", () => {
    expect(iniShellWord("it's", "x")).toBe(`'it'"'"'s'`);
  });

  test("% is doubled; %( is broken up so %(here)s is never seen", () => {
    expect(iniShellWord("5%", "x")).toBe("'5%%'");
    expect(iniShellWord("%(here)s", "x")).toBe("'%%''(here)s'");
  });

  test("; and # after white space get an empty '' before them (no inline comment)", () => {
    expect(iniShellWord("a ; b # c", "x")).toBe("'a ''; b ''# c'");
    expect(iniShellWord("a;b#c", "x")).toBe("'a;b#c'");
  });

  test("a newline becomes an indented continuation line starting with ''", () => {
    expect(iniShellWord("a\nb", "x")).toBe("'a\n\t''b'");
    expect(iniShellWord("a \n b", "x")).toBe("'a ''\n\t'' b'");
  });

  test("a carriage return or NUL is refused with the reason", () => {
    expect(() => iniShellWord("a\rb", "the command of web")).toThrow(/the command of web contains a carriage return/);
    expect(() => iniShellWord("a\0b", "x")).toThrow(/NUL/);
  });

  test("iniPath doubles % and refuses what configparser would cut", () => {
    expect(iniPath("/srv/50%/x", "p")).toBe("/srv/50%%/x");
    expect(iniPath("/srv/with space/x;y", "p")).toBe("/srv/with space/x;y");
    expect(() => iniPath("relative/x", "p")).toThrow(/absolute/);
    expect(() => iniPath("/srv/a ;b", "p")).toThrow(/white space before ;/);
    expect(() => iniPath("/srv/a #b", "p")).toThrow(/white space before #/);
    expect(() => iniPath("/srv/a\nb", "p")).toThrow(/line break/);
    expect(() => iniPath("/srv/a ", "p")).toThrow(/ends with white space/);
    expect(() => iniPath("/srv/%(here)s", "p")).toThrow(/%\(here\)s/);
  });

  test("environment variable names with = are refused", () => {
    expect(() => programArgv(spec({ env: { "A=B": "x" } }), "/usr/bin/python3", homePaths("/srv/home"))).toThrow(/invalid environment variable name/);
  });
});

const PY = "/usr/bin/python3";
const SRV = homePaths("/srv/home");

describe("renderProgramConf", () => {
  test("has the settings docs/architecture.md and docs/reliability.md rely on", () => {
    const text = renderProgramConf(spec({ stopSignal: "SIGUSR1", stopTimeoutMs: 70_500 }), { autostart: true, python: PY, paths: SRV });
    expect(text).toContain("[program:web-k3x9qa]\n");
    for (const line of [
      "directory=/srv/home/deploy/web-k3x9qa",
      "autostart=true",
      "autorestart=true",
      "startsecs=1",
      "startretries=60",
      "stopsignal=USR1",
      "stopwaitsecs=71",
      "stopasgroup=true",
      "killasgroup=true",
      "redirect_stderr=true",
      "stdout_logfile=/srv/home/var/log/web-k3x9qa.log",
      "stdout_logfile_maxbytes=10485760",
      "stdout_logfile_backups=5",
    ]) {
      expect(text.split("\n")).toContain(line);
    }
    expect(text).not.toMatch(/^environment=/m);
    const command = text.split("\n").find((l) => l.startsWith("command="))!;
    const settings = {
      record: "/srv/home/var/run/supervisord-programs/web-k3x9qa.json",
      log: "/srv/home/var/log/web-k3x9qa.log",
      stopSignal: 10, // SIGUSR1: an adopted program gets it from the launcher standing in for it
      stopTo: "group",
      stopWaitSecs: 71,
      maxBytes: 10485760,
      keep: 5,
    };
    expect(command).toBe(
      `command='/usr/bin/python3' '-I' '-S' '/srv/home/etc/supervisor/sarge_launcher.py' '${JSON.stringify(settings)}' 'exec python app.py' 'PORT=5010'`,
    );
  });

  test("log rotation from spec.logs", () => {
    const text = renderProgramConf(spec({ logs: { maxBytes: 1000, keep: 2 } }), { autostart: true, python: PY, paths: SRV });
    expect(text).toMatch(/^stdout_logfile_maxbytes=1000$/m);
    expect(text).toMatch(/^stdout_logfile_backups=2$/m);
  });

  test("stopTo main: supervisord signals the main process only and still SIGKILLs the group", () => {
    const text = renderProgramConf(spec({ stopTo: "main" }), { autostart: true, python: PY, paths: SRV });
    expect(text).toMatch(/^stopasgroup=false$/m);
    expect(text).toMatch(/^killasgroup=true$/m);
    expect(text).toContain('"stopTo":"main"');
  });

  test("defaults: SIGTERM, 10 s; autostart=false when not wanted", () => {
    const text = renderProgramConf(spec(), { autostart: false, python: PY, paths: SRV, startRetries: 3 });
    expect(text).toMatch(/^stopsignal=TERM$/m);
    expect(text).toMatch(/^stopwaitsecs=10$/m);
    expect(text).toMatch(/^autostart=false$/m);
    expect(text).toMatch(/^startretries=3$/m);
  });

  test("refuses bad names and signals before anything is written", () => {
    const o = { autostart: true, python: PY, paths: SRV };
    expect(() => renderProgramConf(spec({ name: "web:1" }), o)).toThrow(/invalid program name/);
    expect(() => renderProgramConf(spec({ name: "a b" }), o)).toThrow(/invalid program name/);
    expect(() => renderProgramConf(spec({ command: "a\rb" }), o)).toThrow(/carriage return/);
    expect(() => renderProgramConf(spec({ stopSignal: "SIGNOPE" as NodeJS.Signals }), o)).toThrow(
      /invalid stop signal/,
    );
  });
});

describe.skipIf(python === null)("round trip through supervisor's own config parser", () => {
  let dir: string;
  let paths: HomePaths;

  beforeAll(async () => {
    // a home path with a space and a % in it
    dir = await mkdtemp(join(tmpdir(), "sarge-sdconf-"));
    paths = homePaths(join(dir, "my home 100%"));
    await writeSupervisordConfig(paths, { python: python! });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("supervisord.conf: socket 0600, nodaemon, logs and pid under var/, restarter, include", async () => {
    const parsed = await parseWithSupervisor(supervisordConfPath(paths));
    expect(parsed.socket).toBe(paths.supervisorSocket);
    expect(parsed.chmod).toBe(0o600);
    expect(parsed.nodaemon).toBe(true);
    expect(parsed.logfile).toBe(join(paths.log, "supervisord.log"));
    expect(parsed.pidfile).toBe(join(paths.run, "supervisord.pid"));
    expect(parsed.childlogdir).toBe(paths.log);
    expect(parsed.programs["sarge.restarter"]).toMatchObject({
      kind: "EventListenerPoolConfig",
      argv: [python, "-u", restarterScriptPath(paths)],
    });
  });

  test("every nasty command and environment value arrives byte for byte", async () => {
    const specs: ProgramSpec[] = [
      spec({ name: "env-values", env: NASTY, cwd: join(paths.root, "deploy", "a 50%;dir#x"), logFile: join(paths.log, "x%y.log") }),
      ...Object.entries(NASTY).map(([key, value], i) =>
        spec({ name: `cmd-${i}`, command: `printf '%s\\n' ${key}; ${value}`, env: { [key]: value }, logFile: join(paths.log, `cmd-${i}.log`) }),
      ),
    ];
    for (const s of specs) {
      await writeFile(programConfPath(paths, s.name), renderProgramConf(s, { autostart: true, python: python!, paths }));
    }
    const parsed = await parseWithSupervisor(supervisordConfPath(paths));
    for (const s of specs) {
      const p = parsed.programs[s.name]!;
      expect(p, s.name).toBeDefined();
      expect(p.group).toBe(s.name);
      expect(p.argv).toEqual(programArgv(s, python!, paths));
      expect(p.argv.slice(0, 4)).toEqual([python, "-I", "-S", launcherScriptPath(paths)]);
      expect(JSON.parse(p.argv[4]!)).toMatchObject({ log: s.logFile, stopSignal: 15 });
      expect(p.argv[5]).toBe(s.command);
      expect(p.directory).toBe(s.cwd);
      expect(p.stdout_logfile).toBe(s.logFile);
      // supervisord's own environment= is not used: the launcher gives exactly spec.env
      expect(p.environment).toEqual({});
    }
    const env = parsed.programs["env-values"]!.argv;
    expect(Object.fromEntries(env.slice(6).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]))).toEqual(NASTY);
  });

  test("program settings as supervisord understands them", async () => {
    const s = spec({ name: "haproxy", stopSignal: "SIGUSR1", stopTimeoutMs: 65_000, logFile: join(paths.log, "haproxy.log") });
    await writeFile(programConfPath(paths, s.name), renderProgramConf(s, { autostart: false, python: python!, paths }));
    const p = (await parseWithSupervisor(supervisordConfPath(paths))).programs["haproxy"]!;
    expect(p).toMatchObject({
      autostart: false,
      autorestart: "RestartUnconditionally",
      startsecs: 1,
      startretries: 60,
      stopsignal: 10, // SIGUSR1
      stopwaitsecs: 65,
      stopasgroup: true,
      killasgroup: true,
      redirect_stderr: true,
      maxbytes: 10 * 1024 * 1024,
      backups: 5,
    });
  });

  test("supervisord's environment= would lose quotes (why the launcher sets the environment)", async () => {
    await writeFile(
      programConfPath(paths, "envtest"),
      `[program:envtest]\ncommand=/bin/true\nstdout_logfile=NONE\nenvironment=A='"quoted"',B="it's"\n`,
    );
    const p = (await parseWithSupervisor(supervisordConfPath(paths))).programs["envtest"]!;
    expect(p.environment).toEqual({ A: "quoted", B: "it's" }); // A lost its quotes
    await rm(programConfPath(paths, "envtest"));
  });
});

describe.skipIf(python === null)("the launcher, started the way supervisord starts a child", () => {
  let dir: string;
  let paths: HomePaths;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sarge-launcher-"));
    paths = homePaths(join(dir, "home"));
    await writeSupervisordConfig(paths, { python: python! });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // supervisord's child: setpgrp(), stdin and stdout pipes, SIGPIPE ignored (Python's default), then execve
  const asSupervisordChild =
    "import os,sys,signal;signal.signal(signal.SIGPIPE,signal.SIG_IGN);os.setpgrp();os.execv(sys.argv[1],sys.argv[1:])";
  const launch = (s: ProgramSpec) =>
    execa(python!, ["-c", asSupervisordChild, ...programArgv(s, python!, paths)], { cwd: s.cwd, stdin: "pipe", env: { SHOULD_NOT_LEAK: "1" }, extendEnv: true });
  const record = async (name: string) => JSON.parse(await readFile(join(paths.run, "supervisord-programs", `${name}.json`), "utf8")) as Record<string, unknown>;

  test("exactly spec.env, own session, stdin /dev/null, output in the log file, default SIGPIPE, same pid through exec, recorded", async () => {
    const s = spec({
      command: "echo pid=$$; env; readlink /proc/self/fd/0; readlink /proc/self/fd/1; grep SigIgn /proc/$$/status; cat /proc/$$/stat",
      env: NASTY,
      cwd: dir,
      logFile: join(paths.log, "fresh.log"),
    });
    const child = launch(s);
    const { stdout } = await child;
    expect(stdout).toBe(""); // nothing through supervisord's pipe
    const out = await readFile(s.logFile, "utf8");
    const pid = Number(/^pid=(\d+)$/m.exec(out)![1]);
    expect(pid).toBe(child.pid); // execs all the way: supervisord watches the program itself
    expect(out).toContain(`\n/dev/null\n${s.logFile}\n`);
    expect(out).toMatch(/^SigIgn:\s+0+$/m);
    const stat = out.slice(out.lastIndexOf(")") + 2).split(" ");
    expect(Number(stat[2])).toBe(pid); // pgrp
    expect(Number(stat[3])).toBe(pid); // session
    for (const [key, value] of Object.entries(NASTY)) expect(out).toContain(`${key}=${value}`);
    expect(out).not.toContain("SHOULD_NOT_LEAK");
    expect(out).not.toContain("SUPERVISOR_");
    expect(await record(s.name)).toMatchObject({ pid, start: stat[19], log: s.logFile, stopSignal: 15 });
  });

  test("adopts the recorded process while it runs: starts nothing, forwards signals (the stop signal to its group), exits with it", async () => {
    const s = spec({
      name: "adoptee",
      command: "sleep 1000 & echo child=$!; trap 'echo got USR2' USR2; trap 'echo got TERM; exit 0' TERM; echo started; while :; do sleep 0.05; done",
      cwd: dir,
      logFile: join(paths.log, "adoptee.log"),
    });
    const first = launch(s);
    await waitForText(s.logFile, "started\n");
    const child = Number(/^child=(\d+)$/m.exec(await readFile(s.logFile, "utf8"))![1]);
    // supervisord killed and started again: a second launcher for the same program
    const second = launch(s);
    expect((await record(s.name))["pid"]).toBe(first.pid);
    await waitUntilTrue(() => readFile(`/proc/${second.pid}/stat`, "utf8").then((t) => t.slice(t.lastIndexOf(")") + 2).split(" ")[3] === String(second.pid)));
    second.kill("SIGUSR2");
    await waitForText(s.logFile, "got USR2\n");
    second.kill("SIGTERM"); // supervisord's stop, to the launcher's group
    await waitForText(s.logFile, "got TERM\n");
    const [a, b] = await Promise.all([first, second]);
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    expect((await readFile(s.logFile, "utf8")).match(/started/g)).toHaveLength(1);
    await waitUntilTrue(() => readFile(`/proc/${child}/stat`, "utf8").then(() => false, () => true)); // the group got TERM
  });
});

async function waitUntilTrue(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitForText(file: string, text: string): Promise<void> {
  await waitUntilTrue(async () => (await readFile(file, "utf8")).includes(text));
}

describe("files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sarge-sdfiles-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("writeSupervisordConfig: 0700 etc/supervisor, programs/ and var/run; 0600 files; idempotent", async () => {
    const paths = homePaths(join(dir, "home"));
    const conf = await writeSupervisordConfig(paths, { python: "/usr/bin/python3" });
    expect(conf).toBe(supervisordConfPath(paths));
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    expect(await mode(paths.supervisorEtc)).toBe(0o700);
    expect(await mode(join(paths.supervisorEtc, "programs"))).toBe(0o700);
    expect(await mode(paths.run)).toBe(0o700);
    expect(await mode(conf)).toBe(0o600);
    expect(await mode(restarterScriptPath(paths))).toBe(0o600);
    await writeFile(programConfPath(paths, "kept"), "[program:kept]\ncommand=/bin/true\n");
    await writeSupervisordConfig(paths, { python: "/usr/bin/python3", fatalRetrySeconds: 7 });
    expect(await readFile(programConfPath(paths, "kept"), "utf8")).toContain("[program:kept]");
    expect(await readFile(restarterScriptPath(paths), "utf8")).toMatch(/^RETRY_SECONDS = 7$/m);
    expect(await readFile(restarterScriptPath(paths), "utf8")).toContain(`SOCKET = ${JSON.stringify(paths.supervisorSocket)}`);
  });

  test("renderSupervisordConf writes the socket with chmod 0600 and an include of programs/*.conf", () => {
    const paths = homePaths("/srv/app");
    const text = renderSupervisordConf(paths, "/usr/bin/python3");
    expect(text).toContain("[unix_http_server]\nfile=/srv/app/var/run/supervisor.sock\nchmod=0600\n");
    expect(text).toMatch(/^nodaemon=true$/m);
    expect(text).toContain("[include]\nfiles = programs/*.conf\n");
  });

  test("supervisordCommand runs supervisord in the foreground with the home's config", () => {
    const paths = homePaths("/srv/app");
    if (python === null) {
      expect(() => supervisordCommand(paths)).toThrow(/supervisord not found/);
      return;
    }
    const cmd = supervisordCommand(paths);
    expect(cmd[0]).toMatch(/^\/.*\/supervisord$/);
    expect(cmd.slice(1)).toEqual(["--nodaemon", "-c", "/srv/app/etc/supervisor/supervisord.conf"]);
  });

  test("setAutostart / readAutostart flip only the autostart line", async () => {
    const file = join(dir, "p.conf");
    const text = renderProgramConf(spec({ command: "echo\nautostart=true" }), { autostart: true, python: PY, paths: SRV });
    await writeFile(file, text);
    expect(await readAutostart(file)).toBe(true);
    expect(await setAutostart(file, false)).toBe(true);
    expect(await readAutostart(file)).toBe(false);
    expect(await readFile(file, "utf8")).toBe(text.replace(/^autostart=true$/m, "autostart=false"));
    expect(await readAutostart(join(dir, "missing.conf"))).toBeNull();
    expect(await setAutostart(join(dir, "missing.conf"), true)).toBe(false);
  });
});

describe("status helpers", () => {
  test("lastExitsFromLog keeps the last exit per program, codes and signals", () => {
    const log = [
      "2024-01-01 10:00:00,000 INFO spawned: 'web-a' with pid 10",
      "2024-01-01 10:00:01,000 WARN exited: web-a (exit status 1; not expected)",
      "2024-01-01 10:00:02,000 WARN exited: web-b (terminated by SIGKILL (core dumped); not expected)",
      "2024-01-01 10:00:03,000 WARN exited: web-a (terminated by SIGSEGV; not expected)",
      "2024-01-01 10:00:04,000 WARN stopped: web-c (terminated by SIGTERM)",
      "2024-01-01 10:00:05,000 INFO exited: web-d (exit status 0; expected)",
    ].join("\n");
    expect(Object.fromEntries(lastExitsFromLog(log))).toEqual({
      "web-a": "signal SIGSEGV",
      "web-b": "signal SIGKILL",
      "web-c": "signal SIGTERM",
      "web-d": "exit 0",
    });
  });

  test("mapState: supervisord states to ProgramState", () => {
    expect(mapState("STOPPED", null)).toEqual({ state: "stopped", wanted: false });
    expect(mapState("STARTING", null)).toEqual({ state: "starting", wanted: true });
    expect(mapState("RUNNING", null)).toEqual({ state: "running", wanted: true });
    expect(mapState("BACKOFF", null)).toEqual({ state: "backoff", wanted: true });
    expect(mapState("STOPPING", null)).toEqual({ state: "stopping", wanted: false });
    expect(mapState("EXITED", null)).toEqual({ state: "backoff", wanted: true });
    expect(mapState("FATAL", true)).toEqual({ state: "backoff", wanted: true });
    expect(mapState("FATAL", false)).toEqual({ state: "stopped", wanted: false });
    expect(mapState("UNKNOWN", null)).toEqual({ state: "stopped", wanted: false });
  });
});

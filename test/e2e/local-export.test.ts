/** docs/local.md (`sarge local export` supervisord and systemd), end to end. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { logLinePattern, project, sarge } from "./local-support.js";

const PROCFILE = "web: python app.py --port $PORT\nworker: celery -A 'x' worker --rate 10%\n";
const DOTENV = "MESSAGE='hello world'\nPERCENT=50%\n";

const exportTo = (cwd: string, args: string[], env: Record<string, string> = {}) =>
  sarge(["local", "export", ...args], { cwd, env });

describe("sarge local export supervisord (docs/local.md)", () => {
  it("writes <app>.conf: one [program:<name-N>] per process and a [group:<app>]", async () => {
    const cwd = project({ Procfile: PROCFILE, ".env": DOTENV });
    const result = await exportTo(cwd, ["-c", "web=2", "supervisord", "out"], { OS_ONLY: "not exported" });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    const app = basename(cwd);
    expect(result.stderr).toMatch(logLinePattern("INFO", `Writing 'out/${app}.conf'`));
    expect(readdirSync(join(cwd, "out"))).toEqual([`${app}.conf`]);
    const section = (name: string, cmd: string, env: string) =>
      [
        `[program:${name}]`,
        `command=/bin/sh -c '${cmd}'`,
        "autostart=true",
        "autorestart=true",
        "stopsignal=QUIT",
        `stdout_logfile=/var/log/${app}/${name}.log`,
        `stderr_logfile=/var/log/${app}/${name}.error.log`,
        `user=${app}`,
        `directory=${cwd}`,
        `environment=${env}`,
        "",
        "",
      ].join("\n");
    expect(readFileSync(join(cwd, "out", `${app}.conf`), "utf8")).toBe(
      section("web-1", "python app.py --port $PORT", "HONCHO_PROCESS_NAME=web.1,MESSAGE='hello world',PERCENT=50%%,PORT=5000") +
        section("web-2", "python app.py --port $PORT", "HONCHO_PROCESS_NAME=web.2,MESSAGE='hello world',PERCENT=50%%,PORT=5001") +
        section(
          "worker-1",
          "celery -A 'x' worker --rate 10%%",
          "HONCHO_PROCESS_NAME=worker.1,MESSAGE='hello world',PERCENT=50%%,PORT=5100",
        ) +
        `[group:${app}]\nprograms=web-1,web-2,worker-1\n`,
    );
  });

  it("-a -l -u -s -p -d; PORT stays at its .env position; the location is created", async () => {
    const cwd = project({ "app/Procfile": "web: run\n", "app/.env": "A=1\nPORT=9000\nB=2\n" });
    const result = await exportTo(cwd, [
      "-d", "app", "-a", "myapp", "-l", "/srv/logs", "-u", "svc", "-s", "/bin/bash", "-p", "6000",
      "supervisord", "deep/er/out",
    ]);
    expect(result.code).toBe(0);
    const conf = readFileSync(join(cwd, "deep/er/out/myapp.conf"), "utf8");
    expect(conf).toContain("[program:web-1]\ncommand=/bin/bash -c 'run'\n");
    expect(conf).toContain("stdout_logfile=/srv/logs/web-1.log\nstderr_logfile=/srv/logs/web-1.error.log\nuser=svc\n");
    expect(conf).toContain(`directory=${join(cwd, "app")}\n`);
    // -p wins over .env PORT (deliberate difference), and PORT keeps the .env position
    expect(conf).toContain("environment=HONCHO_PROCESS_NAME=web.1,A=1,PORT=6000,B=2\n");
    expect(conf).toContain("[group:myapp]\nprograms=web-1\n");
  });

  it("an unknown format is a usage error (exit 2); an uncreatable location is an error (exit 1)", async () => {
    const cwd = project({ Procfile: "web: x\n", file: "" });
    const [format, location] = await Promise.all([
      exportTo(cwd, ["upstart2", "out"]),
      exportTo(cwd, ["supervisord", "file/out"]),
    ]);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("upstart2");
    expect(location.code).toBe(1);
    expect(location.stderr).toContain("[ERROR] Could not create export directory\n");
    expect(existsSync(join(cwd, "out"))).toBe(false);
  });

  it("leaves the release hook out: it is not a process to keep running", async () => {
    const cwd = project({ Procfile: `release: python manage.py migrate\n${PROCFILE}` });
    expect((await exportTo(cwd, ["supervisord", "out"])).code).toBe(0);
    const conf = readFileSync(join(cwd, "out", `${basename(cwd)}.conf`), "utf8");
    expect(conf).not.toContain("migrate");
    expect(conf).toContain(`[group:${basename(cwd)}]\nprograms=web-1,worker-1\n`);
    expect(conf).toContain("HONCHO_PROCESS_NAME=web.1,PORT=5000");
  });

  it("-t replaces the template folder", async () => {
    const cwd = project({
      Procfile: "web: x\nworker: y\n",
      "tpl/supervisord.conf": "{{#each processes}}{{dashrepl name}} {{shellquote cmd}} {{../app}}\n{{/each}}",
    });
    const result = await exportTo(cwd, ["-a", "app", "-t", "tpl", "supervisord", "out"]);
    expect(result.code).toBe(0);
    expect(readFileSync(join(cwd, "out/app.conf"), "utf8")).toBe("web-1 x app\nworker-1 y app\n");
  });
});

describe("sarge local export systemd (docs/local.md)", () => {
  it("<app>.target, <app>-<type>.target and <app>-<type>-<N>.service", async () => {
    const cwd = project({ Procfile: PROCFILE + "idle: z\n", ".env": DOTENV });
    const result = await exportTo(cwd, ["-a", "shop", "-c", "web=2,idle=0", "systemd", "units"]);
    expect(result.code).toBe(0);
    const written = [...result.stderr.matchAll(/Writing '(.*)'/g)].map((m) => m[1]);
    expect(written).toEqual([
      "units/shop.target",
      "units/shop-web.target",
      "units/shop-web-1.service",
      "units/shop-web-2.service",
      "units/shop-worker.target",
      "units/shop-worker-1.service",
    ]);
    const read = (name: string) => readFileSync(join(cwd, "units", name), "utf8");
    expect(read("shop.target")).toBe("[Unit]\nWants=shop-web.target shop-worker.target\n\n[Install]\nWantedBy=multi-user.target\n");
    expect(read("shop-web.target")).toBe("[Unit]\nPartOf=shop.target\nWants=shop-web-1.service shop-web-2.service\n");
    expect(read("shop-worker-1.service")).toBe(
      [
        "[Unit]",
        "PartOf=shop-worker.target",
        "",
        "[Service]",
        "User=shop",
        `WorkingDirectory=${cwd}`,
        "Environment=HONCHO_PROCESS_NAME=worker.1",
        "Environment=MESSAGE='hello world'",
        "Environment=PERCENT=50%",
        "Environment=PORT=5100",
        "ExecStart=/bin/sh -lc 'celery -A 'x' worker --rate 10%'",
        "Restart=always",
        "StandardInput=null",
        "StandardOutput=journal",
        "StandardError=journal",
        "SyslogIdentifier=%n",
        "KillMode=process",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
      ].join("\n"),
    );
    expect(read("shop-web-2.service")).toContain("Environment=PORT=5001\n");
  });
});

describe("sarge local export upstart (docs/local.md)", () => {
  it("<app>.conf, <app>-<type>.conf and <app>-<type>-<N>.conf, as honcho's integration test expects; env lines shell-quoted", async () => {
    const cwd = project({ Procfile: "web: python web.py\nworker: python worker.py\n", ".env": "MESSAGE='hello world'\nQUOTE=\"it's\"\nPLAIN=x\n" });
    const result = await exportTo(cwd, ["-a", "trunk", "-c", "worker=2", "upstart", "elephant"]);
    expect(result.code, result.stderr).toBe(0);
    const written = [...result.stderr.matchAll(/Writing '(.*)'/g)].map((m) => m[1]);
    expect(written).toEqual([
      "elephant/trunk.conf",
      "elephant/trunk-web.conf",
      "elephant/trunk-web-1.conf",
      "elephant/trunk-worker.conf",
      "elephant/trunk-worker-1.conf",
      "elephant/trunk-worker-2.conf",
    ]);
    const read = (name: string) => readFileSync(join(cwd, "elephant", name), "utf8");
    expect(read("trunk.conf")).toBe(
      "start on (started network-interface\n          or started network-manager\n          or started networking)\n\n" +
        "stop on (stopping network-interface\n         or stopping network-manager\n         or stopping networking)\n",
    );
    expect(read("trunk-worker.conf")).toBe("start on starting trunk\nstop on stopping trunk\n");
    expect(read("trunk-worker-2.conf")).toBe(
      [
        "start on starting trunk-worker",
        "stop on stopping trunk-worker",
        "respawn",
        "",
        "env HONCHO_PROCESS_NAME=worker.2",
        "env MESSAGE='hello world'",
        `env QUOTE='it'"'"'s'`,
        "env PLAIN=x",
        "env PORT=5101",
        "",
        `exec su - trunk -m -s /bin/sh -c 'cd ${cwd}; exec python worker.py 2>&1 | tee -a /var/log/trunk/worker-2.log'`,
        "",
      ].join("\n"),
    );
  });
});

describe("sarge local export runit (docs/local.md)", () => {
  it("a service folder per process: run and log/run executable, the environment as an envdir", async () => {
    const cwd = project({ Procfile: "web: python web.py --port $PORT\n", ".env": "MESSAGE='hello world'\nQUOTE=\"it's\"\n" });
    const result = await exportTo(cwd, ["-a", "elephant", "-l", "/srv/log", "-u", "svc", "runit", "sv"]);
    expect(result.code, result.stderr).toBe(0);
    const written = [...result.stderr.matchAll(/Writing '(.*)'/g)].map((m) => m[1]);
    expect(written).toEqual([
      "sv/elephant-web-1/env/HONCHO_PROCESS_NAME",
      "sv/elephant-web-1/env/MESSAGE",
      "sv/elephant-web-1/env/QUOTE",
      "sv/elephant-web-1/env/PORT",
      "sv/elephant-web-1/run",
      "sv/elephant-web-1/log/run",
    ]);
    const path = (name: string) => join(cwd, "sv", "elephant-web-1", name);
    // an envdir holds each value as is: chpst -e reads it unquoted
    expect(["HONCHO_PROCESS_NAME", "MESSAGE", "QUOTE", "PORT"].map((key) => readFileSync(path(`env/${key}`), "utf8"))).toEqual([
      "web.1",
      "hello world",
      "it's",
      "5000",
    ]);
    expect(readFileSync(path("run"), "utf8")).toBe(`#!/bin/sh\nexec 2>&1\nENVDIR=$PWD/env\ncd ${cwd}\nexec chpst -u svc -e "$ENVDIR" \\\n  python web.py --port $PORT\n`);
    expect(readFileSync(path("log/run"), "utf8")).toContain('LOG=/srv/log/web-1\n');
    expect(readFileSync(path("log/run"), "utf8")).toContain('exec chpst -u svc svlogd "$LOG"\n');
    expect([statSync(path("run")).mode & 0o777, statSync(path("log/run")).mode & 0o777, statSync(path("env/PORT")).mode & 0o111]).toEqual([0o755, 0o755, 0]);
  });
});

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../src/release/history.js";
import { readState } from "../../src/instance/state.js";
import { parseTarget, remoteCommand, sshArguments } from "../../src/push/push.js";
import { packageRoot } from "../../src/util/package-root.js";
import { helloDir } from "../support/apps.js";
import { runSarge } from "../support/cli.js";
import { createTestHome, type TestHome } from "../support/home.js";
import { get } from "../support/load.js";
import { git } from "../support/git.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

const FAB = "/usr/bin/fab";

describe("sarge push over ssh to localhost", () => {
  let work: string;
  let repo: string;
  let home: TestHome;
  let sshd: TestSshd;
  let target: string;
  const user = userInfo().username;
  const push = (args: string[], env: Record<string, string | undefined> = {}, cwd = repo) =>
    runSarge(["push", ...args], { cwd, env: { SARGE_TARGET: undefined, SARGE_SSH: undefined, ...env } });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "sarge-push-"));
    mkdirSync(join(work, "ssh"));
    sshd = await startSshd(join(work, "ssh"));
    home = await createTestHome();
    await home.startSupervisor();
    target = `${user}@127.0.0.1:${sshd.port}:${home.root}`;
    repo = join(work, "app");
    cpSync(helloDir, repo, { recursive: true });
    writeFileSync(join(repo, ".gitignore"), ".env\n");
    git(repo, "init", "-q");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "hello");
  }, 60_000);

  afterAll(async () => {
    sshd?.child.kill("SIGTERM");
    const leftovers = home ? await home.destroy() : [];
    rmSync(work, { recursive: true, force: true });
    expect(leftovers).toEqual([]);
  });

  it("deploys HEAD over ssh: the deploy's output comes back and the app answers on the stable port", async () => {
    const result = await push([target, "--ssh", sshd.sshCommand]);
    expect(result.code, `${result.stderr}\n--- sshd:\n${sshd.log()}`).toBe(0);
    const head = git(repo, "rev-parse", "HEAD").trim();
    expect(result.stderr).toContain(`sarge push: HEAD (${head.slice(0, 12)}) to ${target}: ${home.root}/bin/sarge deploy - web`);
    expect(result.stderr).toContain("now routes to web-");
    expect(result.stdout).toMatch(/^deployed release 1: web-[a-z0-9]{6} \(port \d+\) in [\d.]+s\n$/);
    expect(await get(home.webPort)).toMatch(/\(v1, web-[a-z0-9]{6}\)\n$/);
    const [entry] = readHistory(home.paths);
    expect(entry).toMatchObject({ release: 1, kind: "deploy", outcome: "success", commit: head, user, from: "127.0.0.1" });
  });

  it("refuses uncommitted changes, deploying nothing", async () => {
    writeFileSync(join(repo, "app.py"), readFileSync(join(repo, "app.py"), "utf8").replace('VERSION = "v1"', 'VERSION = "v2"'));
    writeFileSync(join(repo, "NOTES.txt"), "not committed\n");
    const result = await push([target, "--ssh", sshd.sshCommand]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("sarge: uncommitted changes: sarge push deploys HEAD");
    expect(result.stderr).toContain(" M app.py");
    expect(result.stderr).toContain("?? NOTES.txt");
    expect(result.stderr).toContain("--dirty");
    expect(readHistory(home.paths)).toHaveLength(1);
    expect(await get(home.webPort)).toContain("(v1, ");
  });

  it("--dirty deploys the working tree with untracked files, target and ssh command from .env, the process type as first argument", async () => {
    writeFileSync(join(repo, ".env"), `SARGE_TARGET=${target}\nSARGE_SSH='${sshd.sshCommand}'\n`);
    const result = await push(["web", "--dirty"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/sarge push: the working tree \(uncommitted changes, tree [0-9a-f]{12}\) to /);
    const deployed = /deployed release 2: (web-[a-z0-9]{6})/.exec(result.stdout)?.[1];
    expect(deployed).toBeDefined();
    expect(await get(home.webPort)).toContain(`(v2, ${deployed})`);
    expect(readFileSync(join(home.paths.deploy, deployed!, "NOTES.txt"), "utf8")).toBe("not committed\n");
    // .env is ignored, so it is not deployed
    expect(existsSync(join(home.paths.deploy, deployed!, ".env"))).toBe(false);
    expect(readHistory(home.paths)[1]).toMatchObject({ release: 2, outcome: "success", commit: null });
    // the real index is untouched: the changes are still uncommitted
    expect(git(repo, "status", "--porcelain")).toBe(" M app.py\n?? NOTES.txt\n");
  });

  it("passes the remote deploy's failure and exit code through, the running version untouched", async () => {
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "v2");
    const result = await push(["worker"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("deploy failed at procfile");
    expect(result.stderr).toContain("worker");
    expect(Object.keys(readState(home.paths).instances).filter((id) => id.startsWith("worker-"))).toEqual([]);
    expect(await get(home.webPort)).toContain("(v2, ");
  });

  it("says so when ssh fails, when the remote folder is no sarge home, and for bad local input", async () => {
    const closedPort = await getPort({ host: "127.0.0.1" });
    const refused = await push([`${user}@127.0.0.1:${closedPort}:${home.root}`, "--ssh", sshd.sshCommand]);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toContain("Connection refused");
    expect(refused.stderr).toContain("sarge: ssh to 127.0.0.1 failed (exit 255; its message is above)");
    // the check it suggests runs the user's --ssh command as given, ready to paste
    expect(refused.stderr).toContain(`Check that \`${sshd.sshCommand} -p ${closedPort} ${user}@127.0.0.1 true\` works`);

    const nohome = await push([`${user}@127.0.0.1:${sshd.port}:${work}/nothing-here`]);
    expect(nohome.code).toBe(127);
    expect(nohome.stderr).toContain(`sarge: the remote shell could not run ${work}/nothing-here/bin/sarge (exit 127)`);
    expect(nohome.stderr).toContain(`sarge init ${work}/nothing-here`);

    rmSync(join(repo, ".env"));
    const notarget = await push([]);
    expect(notarget.code).toBe(2);
    expect(notarget.stderr).toContain("sarge: no target to push to");

    const badTarget = await push(["app1:var/local/x"]);
    expect(badTarget.code).toBe(2);
    expect(badTarget.stderr).toContain('sarge: the target argument "app1:var/local/x" is not [user@]host[:port]:/path/to/home');

    const plain = mkdtempSync(join(tmpdir(), "sarge-not-git-"));
    try {
      const notGit = await push([target], {}, plain);
      expect(notGit.code).toBe(1);
      expect(notGit.stderr).toContain(`sarge: ${plain} is not inside a git repository`);
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }

    const dry = await push([target, "web", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(`would run: git archive --format=tar HEAD | ssh -p ${sshd.port} ${user}@127.0.0.1 '${home.root}/bin/sarge deploy - web'`);
    expect(readHistory(home.paths)).toHaveLength(3);
  });

  it("examples/fabfile.py deploys HEAD and rolls back the same way", async () => {
    if (!existsSync(FAB)) throw new Error(`${FAB} is missing: the fabfile test needs the Debian package fabric; run scripts/setup.sh`);
    writeFileSync(join(repo, "app.py"), readFileSync(join(repo, "app.py"), "utf8").replace('VERSION = "v2"', 'VERSION = "v3"'));
    git(repo, "commit", "-q", "-am", "v3");
    const fab = (...args: string[]) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(FAB, ["-r", join(packageRoot, "examples"), "-F", "/dev/null", "-i", join(work, "ssh", "client_key"), "-H", `${user}@127.0.0.1:${sshd.port}`, ...args], {
          cwd: repo,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let output = "";
        child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
        child.once("close", (code) => resolve({ code, output }));
      });
    const deployed = await fab("deploy", "--home", home.root);
    expect(deployed.code, deployed.output).toBe(0);
    expect(deployed.output).toMatch(/deployed release 4: web-[a-z0-9]{6}/);
    expect(await get(home.webPort)).toContain("(v3, ");
    expect(readHistory(home.paths)[3]).toMatchObject({ release: 4, outcome: "success", commit: git(repo, "rev-parse", "HEAD").trim() });

    const failed = await fab("deploy", "--procs", "worker", "--home", home.root);
    expect(failed.code).toBe(1);
    expect(failed.output).toContain("deploy failed at procfile");

    const rolledBack = await fab("rollback", "--home", home.root);
    expect(rolledBack.code, rolledBack.output).toBe(0);
    expect(await get(home.webPort)).toContain("(v2, ");
  });

  it("takes TARGET from an untracked .env (the 2012 flow) and does not count that .env as an uncommitted change", async () => {
    rmSync(join(repo, ".env"), { force: true });
    writeFileSync(join(repo, ".gitignore"), "");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "v2, .env no longer ignored");
    writeFileSync(join(repo, ".env"), `TARGET=${target}\nSARGE_SSH='${sshd.sshCommand}'\n`);
    expect(git(repo, "status", "--porcelain")).toBe("?? .env\n");
    const result = await push(["web"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("sarge push: HEAD (");
    expect(readHistory(home.paths).at(-1)).toMatchObject({ outcome: "success", commit: git(repo, "rev-parse", "HEAD").trim() });
    writeFileSync(join(repo, ".gitignore"), ".env\n");
    git(repo, "commit", "-q", "-am", ".env ignored again");
  });

  it("examples/fabfile.py takes host and home from TARGET in an untracked .env: sarge local run fab deploy", async () => {
    if (!existsSync(FAB)) throw new Error(`${FAB} is missing: the fabfile test needs the Debian package fabric; run scripts/setup.sh`);
    writeFileSync(join(repo, "app.py"), readFileSync(join(repo, "app.py"), "utf8").replace(/VERSION = "v\d+"/, 'VERSION = "v5"'));
    writeFileSync(join(repo, ".gitignore"), "");
    git(repo, "commit", "-q", "-am", "v5, .env not ignored");
    const fab = ["-r", join(packageRoot, "examples"), "-F", "/dev/null", "-i", join(work, "ssh", "client_key"), "deploy"];
    const env = { SARGE_TARGET: undefined, TARGET: undefined };
    rmSync(join(repo, ".env"), { force: true });
    const noTarget = await runSarge(["local", "run", FAB, ...fab], { cwd: repo, env });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("no host: pass -H user@host, or put SARGE_TARGET=user@host:/path/to/home in .env and run `sarge local run fab deploy`");

    writeFileSync(join(repo, ".env"), `TARGET=${target}\n`);
    const deployed = await runSarge(["local", "run", FAB, ...fab], { cwd: repo, env });
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(await get(home.webPort)).toContain("(v5, ");
    expect(readHistory(home.paths).at(-1)).toMatchObject({ outcome: "success", commit: git(repo, "rev-parse", "HEAD").trim() });
    writeFileSync(join(repo, ".gitignore"), ".env\n");
    git(repo, "commit", "-q", "-am", ".env ignored again");
  });
});

describe("sarge push targets", () => {
  it("parses [user@]host[:port]:/path and ~/path, and refuses the rest", () => {
    expect(parseTarget("deploy@app1.example.com:/var/local/myapp")).toEqual({ user: "deploy", host: "app1.example.com", port: null, home: "/var/local/myapp" });
    expect(parseTarget("app1:2222:/var/local/myapp/")).toEqual({ user: null, host: "app1", port: 2222, home: "/var/local/myapp" });
    expect(parseTarget("u@[::1]:22:~/apps/my app")).toEqual({ user: "u", host: "[::1]", port: 22, home: "~/apps/my app" });
    for (const bad of ["app1", "app1:relative/path", "-oProxyCommand=x:/p", "app1:99999:/p", ":/p", "a@b@c:/p"]) {
      expect(() => parseTarget(bad), bad).toThrow(/is not \[user@\]host\[:port\]:\/path\/to\/home/);
    }
  });

  it("quotes the remote command for the remote shell", () => {
    expect(remoteCommand("/var/local/myapp", ["web", "worker"])).toBe("/var/local/myapp/bin/sarge deploy - web worker");
    expect(remoteCommand("/srv/it's here", ["web"])).toBe("'/srv/it'\\''s here/bin/sarge' deploy - web");
    expect(remoteCommand("~/apps/my app", ["web"])).toBe("~/'apps/my app/bin/sarge' deploy - web");
    expect(sshArguments(parseTarget("u@[::1]:2200:/h"), ["web"])).toEqual(["-p", "2200", "u@::1", "/h/bin/sarge deploy - web"]);
  });
});

/**
 * Python environments end to end: real `python3 -m venv`, real pip, hand-made wheels, offline.
 * Issue 4's "Done when" list, one test each, plus `sarge wheel`.
 */
import { execFileSync, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, readdir, readlink, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { registerWheel } from "../../src/cli/wheel.js";
import { SargeError } from "../../src/util/errors.js";
import {
  collectEnvironments,
  environmentKeyOf,
  environmentVariables,
  prepareEnvironment,
  type PreparedEnvironment,
} from "../../src/python-env/index.js";
import { addToDist } from "../../src/python-env/wheel.js";
import { buildEnvironment } from "../../src/python-env/build.js";
import { listDist } from "../../src/python-env/dist.js";
import { resolveInterpreter } from "../../src/python-env/interpreter.js";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { writeWheel } from "../support/wheels.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let work: string;
let dist: string;
let elsewhere: string;

const TOP_APP = [
  "import json, sys",
  "import leaf_pkg",
  "def main():",
  "    print(json.dumps({'executable': sys.executable, 'prefix': sys.prefix, 'leaf': leaf_pkg.__version__}))",
  "",
].join("\n");

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sarge-pyenv-e2e-"));
  dist = join(work, "dist");
  elsewhere = join(work, "elsewhere");
  await writeWheel(dist, {
    name: "Top-App",
    version: "1.0",
    requires: ["mid-lib>=1"],
    files: { "top_app/__init__.py": TOP_APP },
    entryPoints: { "top-hello": "top_app:main" },
  });
  await writeWheel(dist, { name: "mid_lib", version: "1.2", requires: ["leaf.pkg==2.0"] });
  await writeWheel(dist, { name: "leaf.pkg", version: "2.0" });
  await writeWheel(dist, { name: "needs-ghost", version: "1.0", requires: ["ghost>=1"] });
  await writeWheel(dist, { name: "newpy", version: "1.0", requiresPython: ">=3.99" });
  const bulky: Record<string, string> = {};
  for (let i = 0; i < 1500; i++) bulky[`bulky/m${i}.py`] = `VALUE = ${i}\n` + "def f(x):\n    return x * 2\n".repeat(20);
  await writeWheel(dist, { name: "bulky", version: "1.0", files: bulky });
  // the missing dependency exists, but only outside dist
  await writeWheel(elsewhere, { name: "ghost", version: "1.0" });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

async function newHome(): Promise<HomePaths> {
  const paths = homePaths(await mkdtemp(join(work, "home-")));
  await mkdir(paths.deploy, { recursive: true });
  return paths;
}

async function newApp(paths: HomePaths, name: string, requirements?: string): Promise<string> {
  const app = join(paths.deploy, name);
  await mkdir(app, { recursive: true });
  if (requirements !== undefined) await writeFile(join(app, "requirements.txt"), requirements);
  return app;
}

async function prepare(paths: HomePaths, appDir: string, lines: string[] = []): Promise<PreparedEnvironment | null> {
  return prepareEnvironment({ paths, python: "python3", dist, appDir, log: (line) => lines.push(line) });
}

async function failure(promise: Promise<unknown>): Promise<SargeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SargeError);
    return error as SargeError;
  }
  throw new Error("expected a SargeError");
}

/** What var/envs holds apart from the interpreter cache. */
async function envEntries(paths: HomePaths): Promise<string[]> {
  return (await readdir(paths.envs)).filter((name) => !name.startsWith(".")).sort();
}

/** Every file of a tree with size, mtime and inode: to prove a folder was not touched. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const info = await lstat(path);
    out.push(`${path} ${info.size} ${info.mtimeMs} ${info.ino}`);
  }
  return out.sort();
}

function runJson(command: string, env?: NodeJS.ProcessEnv): { executable: string; prefix: string; leaf: string } {
  return JSON.parse(execFileSync(command, { encoding: "utf8", env })) as { executable: string; prefix: string; leaf: string };
}

describe("prepareEnvironment", () => {
  it("resolves a dependency chain; the entry-point script runs with the environment's interpreter", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-aaa111", "top-app\n");
    const result = await prepare(paths, app);
    expect(result).not.toBeNull();
    const { key, envDir, reused } = result!;
    expect(reused).toBe(false);
    expect(envDir).toBe(join(paths.envs, key));
    expect(await readlink(join(app, ".venv"))).toBe(envDir);
    expect(environmentKeyOf(app)).toBe(key);

    const site = join(envDir, "lib", (await readdir(join(envDir, "lib")))[0]!, "site-packages");
    const installed = (await readdir(site)).filter((name) => name.endsWith(".dist-info")).sort();
    expect(installed).toEqual(["Top_App-1.0.dist-info", "leaf_pkg-2.0.dist-info", "mid_lib-1.2.dist-info"]);
    // byte-compiled even though this machine exports PYTHONDONTWRITEBYTECODE=1
    expect((await readdir(join(site, "top_app", "__pycache__"))).some((f) => f.endsWith(".pyc"))).toBe(true);
    // no pip inside: the host pip installed it
    expect(installed.some((name) => name.startsWith("pip-"))).toBe(false);
    const manifest = JSON.parse(await readFile(join(envDir, ".sarge-env.json"), "utf8")) as { key: string; pip: string };
    expect(manifest).toMatchObject({ key, pip: "host pip via its runner (as --python runs it)" });

    // the script's #! names the folder it was built in, which still exists and never moves
    const script = join(envDir, "bin", "top-hello");
    const shebang = (await readFile(script, "utf8")).split("\n")[0]!.slice(2);
    expect(await realpath(dirname(dirname(shebang)))).toBe(await realpath(envDir));
    const direct = runJson(script);
    expect(await realpath(direct.prefix)).toBe(await realpath(envDir));
    expect(direct.leaf).toBe("2.0");
    // as an instance runs it: by name, through PATH and VIRTUAL_ENV
    const env = { ...process.env, ...environmentVariables(join(app, ".venv"), process.env.PATH) };
    const viaPath = runJson("top-hello", env);
    expect(await realpath(viaPath.prefix)).toBe(await realpath(envDir));
    const python = execFileSync("python", ["-c", "import sys; print(sys.prefix)"], { env, encoding: "utf8" }).trim();
    expect(await realpath(python)).toBe(await realpath(envDir));
  });

  it("gives an app without requirements.txt no environment", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-nore01");
    expect(await prepare(paths, app)).toBeNull();
    await expect(lstat(join(app, ".venv"))).rejects.toThrow();
    expect(environmentKeyOf(app)).toBeNull();
  });

  it("names every missing top-level requirement before pip runs", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-miss01", "flask==3.1\ntop-app\nrequests>=2\nmid-lib>=5\n");
    const lines: string[] = [];
    const error = await failure(prepare(paths, app, lines));
    expect(error.message).toBe(
      `not in dist: flask==3.1, requests>=2, mid-lib>=5 (dist has 1.2) — add the wheels to ${dist} or build them with \`sarge wheel\``,
    );
    expect(lines.filter((line) => line.startsWith("pip:"))).toEqual([]);
    expect(await envEntries(paths)).toEqual([]);
  });

  it("names a missing transitive requirement and who needs it, leaving nothing behind", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-miss02", "top-app\nneeds-ghost\n");
    const lines: string[] = [];
    const error = await failure(prepare(paths, app, lines));
    expect(error.message).toBe(
      `not in dist: ghost>=1 (required by needs-ghost) — add the wheels to ${dist} or build them with \`sarge wheel\``,
    );
    expect(lines.some((line) => line.includes("No matching distribution found for ghost>=1"))).toBe(true); // full pip output logged
    expect(await envEntries(paths)).toEqual([]);
    await expect(lstat(join(app, ".venv"))).rejects.toThrow();
  });

  it("ignores PIP_FIND_LINKS and pip.conf that point at another folder holding the missing wheel", async () => {
    const conf = join(work, "pip.conf");
    await writeFile(conf, `[global]\nfind-links = ${elsewhere}\n[install]\nfind-links = ${elsewhere}\n`);
    vi.stubEnv("PIP_FIND_LINKS", elsewhere);
    vi.stubEnv("PIP_CONFIG_FILE", conf);
    vi.stubEnv("PIP_NO_INDEX", "0");

    // control: with this environment, pip by hand does find the wheel
    const control = join(work, "control-venv");
    execFileSync("python3", ["-m", "venv", "--without-pip", control]);
    execFileSync("python3", ["-m", "pip", "--python", join(control, "bin", "python"), "install", "--no-index", "--find-links", dist, "needs-ghost"], {
      stdio: "pipe",
    });
    await rm(control, { recursive: true, force: true });

    const paths = await newHome();
    const app = await newApp(paths, "web-links1", "needs-ghost\n");
    const error = await failure(prepare(paths, app));
    expect(error.message).toContain("not in dist: ghost>=1 (required by needs-ghost)");
    expect(await envEntries(paths)).toEqual([]);
  });

  it("says when a wheel needs another Python", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-newpy1", "newpy\n");
    const error = await failure(prepare(paths, app));
    expect(error.message).toMatch(/^newpy in dist requires Python >=3\.99, but the environment uses Python 3\.\d+\.\d+/);
  });

  it("reuses the environment for an unchanged redeploy: same key, pip not run", async () => {
    const paths = await newHome();
    const first = await prepare(paths, await newApp(paths, "web-one001", "top-app\n"));
    const before = await snapshot(paths.envs);
    const lines: string[] = [];
    const app2 = await newApp(paths, "web-two002", "top-app\n");
    const started = performance.now();
    const second = await prepare(paths, app2, lines);
    const elapsed = performance.now() - started;
    expect(second).toEqual({ ...first, reused: true });
    expect(lines.filter((line) => line.startsWith("pip:"))).toEqual([]); // every pip line goes through log: none
    expect(await snapshot(paths.envs)).toEqual(before); // nothing built, nothing written
    expect(await readlink(join(app2, ".venv"))).toBe(first!.envDir);
    expect(elapsed).toBeLessThan(1000); // a build takes > 1 s; reuse measures ~5 ms (see bench/)
  });

  it("builds once when two instances of one deploy ask for the same environment at the same time", async () => {
    const paths = await newHome();
    const [web, worker] = await Promise.all([
      prepare(paths, await newApp(paths, "web-pair01", "top-app\n")),
      prepare(paths, await newApp(paths, "worker-pair1", "top-app\n")),
    ]);
    expect(web!.key).toBe(worker!.key);
    expect([web!.reused, worker!.reused].sort()).toEqual([false, true]);
    expect(await envEntries(paths)).toHaveLength(2); // one link, one folder
  });

  it("builds a new environment for a changed requirements.txt; the running instance's one is untouched", async () => {
    const paths = await newHome();
    const oldApp = await newApp(paths, "web-old001", "top-app\n");
    const old = (await prepare(paths, oldApp))!;
    // the old instance is running out of its environment
    const running = spawn(
      join(oldApp, ".venv", "bin", "python"),
      ["-c", "import sys, time, top_app; print('up', flush=True); sys.stdin.read(); import leaf_pkg; print(leaf_pkg.__version__, flush=True)"],
      { stdio: ["pipe", "pipe", "inherit"] },
    );
    let out = "";
    running.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    await vi.waitFor(() => expect(out).toBe("up\n"), { timeout: 10_000 });
    const before = await snapshot(join(paths.envs, await readlink(old.envDir)));

    const newApp2 = await newApp(paths, "web-new002", "top-app\nbulky\n");
    const fresh = (await prepare(paths, newApp2))!;
    expect(fresh.reused).toBe(false);
    expect(fresh.key).not.toBe(old.key);
    expect(await snapshot(join(paths.envs, await readlink(old.envDir)))).toEqual(before);
    expect(environmentKeyOf(oldApp)).toBe(old.key);

    running.stdin.end();
    const code = await new Promise((resolve) => running.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toBe("up\n2.0\n");

    // after the deploy: the old instance folder still exists, so its environment stays
    expect(await collectEnvironments(paths, new Set([fresh.key]))).toEqual([]);
    await rm(oldApp, { recursive: true });
    expect(await collectEnvironments(paths, new Set([fresh.key]))).toEqual([old.key]);
    expect(await envEntries(paths)).toEqual([fresh.key, await readlink(fresh.envDir)].sort());
  });

  it("never reuses a build that was killed, and cleans it up on the next build", async () => {
    const paths = await newHome();
    const app = await newApp(paths, "web-kill01", "top-app\nbulky\n");
    const script = join(work, "build-child.ts");
    await writeFile(
      script,
      [
        `import { prepareEnvironment } from ${JSON.stringify(join(repo, "src/python-env/index.ts"))};`,
        `import { homePaths } from ${JSON.stringify(join(repo, "src/home/paths.ts"))};`,
        `await prepareEnvironment({ paths: homePaths(${JSON.stringify(paths.root)}), python: "python3", dist: ${JSON.stringify(dist)},`,
        `  appDir: ${JSON.stringify(app)}, log: (line) => console.log(line) });`,
        `console.log("FINISHED");`,
      ].join("\n"),
    );
    const child = spawn(join(repo, "node_modules", ".bin", "vite-node"), [script], { cwd: repo, detached: true, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((resolve) => child.on("exit", resolve));
    // kill sarge and its pip (one process group) while pip is installing
    await vi.waitFor(() => expect(out).toContain("pip: Installing collected packages"), { timeout: 60_000, interval: 5 });
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    expect(out).not.toContain("FINISHED");

    const left = await envEntries(paths);
    expect(left).toHaveLength(1);
    const half = left[0]!;
    expect(half).toMatch(new RegExp(`^[0-9a-f]{20}\\.b${child.pid}-[0-9a-f]+$`));
    expect((await lstat(join(paths.envs, half, "bin", "python"))).isSymbolicLink()).toBe(true); // a real half environment
    const key = half.slice(0, 20);
    await expect(lstat(join(paths.envs, key))).rejects.toThrow(); // never published
    await expect(lstat(join(app, ".venv"))).rejects.toThrow();

    const lines: string[] = [];
    const result = (await prepare(paths, app, lines))!;
    expect(result.key).toBe(key); // same inputs, same key...
    expect(result.reused).toBe(false); // ...but built again
    expect(lines).toContain(`python environment: removed unfinished builds ${half}`);
    expect(await envEntries(paths)).toEqual([key, await readlink(result.envDir)].sort());
    expect(runJson(join(result.envDir, "bin", "top-hello")).leaf).toBe("2.0");
  });

  /**
   * A stand-in interpreter: the real one, except that it reports no pip runner file (as with pip
   * < 22.3) and, with `pipLacksPython`, its pip refuses --python like pip < 22.3 does.
   */
  async function fakeInterpreter(name: string, pipLacksPython: boolean): Promise<string> {
    const real = execFileSync("python3", ["-I", "-S", "-c", "import os, sys; print(os.path.realpath(sys.executable))"], { encoding: "utf8" }).trim();
    const fake = join(work, name, "python3");
    await mkdir(dirname(fake), { recursive: true });
    await writeFile(
      fake,
      [
        "#!/bin/sh",
        'if [ "$1" = "-I" ] && [ "$2" = "-c" ]; then',
        `  ${real} "$@" | sed -e "s#${real}#$0#" -e 's#"pipRunner": "[^"]*"#"pipRunner": null#'; exit 0`,
        "fi",
        ...(pipLacksPython
          ? [
              'if [ "$1" = "-I" ] && [ "$2" = "-m" ] && [ "$3" = "pip" ] && [ "$4" = "--python" ]; then',
              '  echo "Usage: python -m pip <command> [options]" >&2; echo "" >&2; echo "no such option: --python" >&2; exit 2',
              "fi",
            ]
          : []),
        `exec ${real} "$@"`,
        "",
      ].join("\n"),
    );
    await chmod(fake, 0o755);
    return fake;
  }

  async function buildWith(python: string): Promise<{ lines: string[]; envDir: string; route: string }> {
    const paths = await newHome();
    const app = await newApp(paths, "web-route1", "top-app\n");
    const lines: string[] = [];
    const result = (await prepareEnvironment({ paths, python, dist, appDir: app, log: (line) => lines.push(line) }))!;
    expect(runJson(join(result.envDir, "bin", "top-hello")).leaf).toBe("2.0");
    const manifest = JSON.parse(await readFile(join(result.envDir, ".sarge-env.json"), "utf8")) as { pip: string };
    return { lines, envDir: result.envDir, route: manifest.pip };
  }

  it("uses `pip --python` when the host pip has no runner file to call directly", async () => {
    const { lines, route } = await buildWith(await fakeInterpreter("norunner", false));
    expect(route).toBe("host pip --python");
    expect(lines.some((line) => line.includes("needs pip 22.3+"))).toBe(false);
  });

  it("falls back to a virtualenv with its own pip when the host pip lacks --python, and says so once", async () => {
    const { lines, route } = await buildWith(await fakeInterpreter("oldpip", true));
    expect(lines.filter((line) => line.includes("needs pip 22.3+ for --python"))).toHaveLength(1);
    expect(route).toBe("venv pip");
  });
});

describe("pip without a network", () => {
  let server: Server;
  let hits: string[];
  let url: string;
  beforeEach(() => {
    hits = [];
  });
  beforeAll(async () => {
    server = createServer((request, response) => {
      hits.push(`${request.method} ${request.url}`);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolveListen) => server.listen(0, "127.0.0.1", resolveListen));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolveClose) => server.close(resolveClose));
  });

  /** pip run directly on a requirements file, as if a line had slipped past sarge's checks. */
  async function pipOn(requirements: string): Promise<string> {
    const paths = await newHome();
    const app = await newApp(paths, "web-net1", requirements);
    const interpreter = await resolveInterpreter("python3", paths);
    const lines: string[] = [];
    const build = buildEnvironment({
      dir: join(paths.envs, "build-net"),
      key: "net",
      interpreter,
      requirementsFile: join(app, "requirements.txt"),
      requirementsFiles: ["requirements.txt"],
      appDir: app,
      dist,
      findLinks: [dist],
      label: dist,
      requireHashes: false,
      listing: await listDist(dist),
      log: (line) => lines.push(line),
    });
    await expect(build).rejects.toThrow(SargeError);
    return lines.join("\n");
  }

  it("makes no request to a package source a requirements line names, however it is named", async () => {
    await pipOn(`--find-links ${url}/links/\n--index-url ${url}/simple/\n--extra-index-url ${url}/extra/\nghost\n`);
    expect(hits).toEqual([]);
  });

  it("makes no request for an editable VCS requirement", async () => {
    const output = await pipOn(`-e git+${url}/repo.git#egg=ghost\n`);
    expect(output).toContain("git");
    expect(hits).toEqual([]);
  });
});

describe("sarge wheel", () => {
  const backend = [
    "import base64, hashlib, os, zipfile",
    "NAME, VERSION = 'greet', '0.3.0'",
    "def _add(z, path, data):",
    "    z.writestr(path, data)",
    "    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()",
    "    return '%s,sha256=%s,%d' % (path, digest, len(data))",
    "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):",
    "    name = '%s-%s-py3-none-any.whl' % (NAME, VERSION)",
    "    info = '%s-%s.dist-info' % (NAME, VERSION)",
    "    with zipfile.ZipFile(os.path.join(wheel_directory, name), 'w') as z:",
    "        record = [",
    "            _add(z, 'greet/__init__.py', open('greet/__init__.py', 'rb').read()),",
    "            _add(z, info + '/METADATA', ('Metadata-Version: 2.1\\nName: %s\\nVersion: %s\\nRequires-Dist: leaf.pkg\\n' % (NAME, VERSION)).encode()),",
    "            _add(z, info + '/WHEEL', b'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'),",
    "        ]",
    "        z.writestr(info + '/RECORD', '\\n'.join(record + [info + '/RECORD,,']) + '\\n')",
    "    return name",
    "",
  ].join("\n");

  /** A project folder with an in-tree PEP 517 backend: builds offline with nothing installed. */
  async function project(dir: string, pyproject?: string): Promise<string> {
    await mkdir(join(dir, "greet"), { recursive: true });
    await writeFile(
      join(dir, "pyproject.toml"),
      pyproject ?? '[build-system]\nrequires = []\nbuild-backend = "tinybackend"\nbackend-path = ["."]\n',
    );
    await writeFile(join(dir, "tinybackend.py"), backend);
    await writeFile(join(dir, "greet", "__init__.py"), "def hello():\n    return 'hi'\n");
    return dir;
  }

  it("copies wheels, builds from a project folder and an sdist, and names dependencies dist lacks", async () => {
    const paths = await newHome();
    const options = { paths, python: "python3", dist: paths.dist, cwd: work };
    const wheel = await writeWheel(join(work, "incoming"), { name: "solo", version: "1.0" });
    expect(await addToDist([wheel], options)).toEqual([{ input: wheel, action: "copied", files: ["solo-1.0-py3-none-any.whl"], missingDependencies: [] }]);
    expect((await stat(join(paths.dist, "solo-1.0-py3-none-any.whl"))).isFile()).toBe(true);
    expect((await addToDist([wheel], options))[0]!.action).toBe("present");

    const folder = await project(join(work, "greet-project"));
    const built = await addToDist([folder], options);
    expect(built).toEqual([{ input: folder, action: "built", files: ["greet-0.3.0-py3-none-any.whl"], missingDependencies: ["leaf.pkg"] }]);
    expect((await readdir(paths.dist)).sort()).toEqual(["greet-0.3.0-py3-none-any.whl", "solo-1.0-py3-none-any.whl"]);
    expect((await addToDist(["greet>=0.3"], options))[0]!.action).toBe("present");

    // an sdist (here made by tar), with its dependency now in dist
    await cp(join(dist, "leaf_pkg-2.0-py3-none-any.whl"), join(paths.dist, "leaf_pkg-2.0-py3-none-any.whl"));
    await rm(join(paths.dist, "greet-0.3.0-py3-none-any.whl"));
    const sdistRoot = join(work, "sdist-src");
    await project(join(sdistRoot, "greet-0.3.0"));
    const sdist = join(work, "greet-0.3.0.tar.gz");
    execFileSync("tar", ["-czf", sdist, "-C", sdistRoot, "greet-0.3.0"]);
    const fromSdist = await addToDist([sdist], options);
    expect(fromSdist).toEqual([{ input: sdist, action: "built", files: ["greet-0.3.0-py3-none-any.whl"], missingDependencies: [] }]);

    // a bare requirement is built from the sdist already in dist
    await rm(join(paths.dist, "greet-0.3.0-py3-none-any.whl"));
    await cp(sdist, join(paths.dist, "greet-0.3.0.tar.gz"));
    expect(await addToDist(["greet==0.3.0"], options)).toEqual([
      { input: "greet==0.3.0", action: "built", files: ["greet-0.3.0-py3-none-any.whl"], missingDependencies: [] },
    ]);
  });

  it("refuses clearly what it cannot do offline, one input at a time", async () => {
    const paths = await newHome();
    const options = { paths, python: "python3", dist: paths.dist, cwd: work };
    const broken = await project(
      join(work, "broken-project"),
      '[build-system]\nrequires = ["no-such-backend>=1"]\nbuild-backend = "no_such_backend"\n',
    );
    const good = await writeWheel(join(work, "incoming-ok"), { name: "fine", version: "1.0" });
    const [unknown, cannotBuild, fine] = await addToDist(["flask==3.1", broken, good], options);
    expect(unknown).toMatchObject({
      action: "failed",
      error: `flask==3.1 is not in ${paths.dist}, and sarge wheel works offline — copy its wheel or sdist there, or give a local file or project folder`,
    });
    expect(cannotBuild!.action).toBe("failed");
    expect(cannotBuild!.error).toMatch(/^cannot build a wheel from .*broken-project offline: its build backend must be installed for /);
    expect(cannotBuild!.detail).toContain("with the build backend from dist");
    expect(fine!.action).toBe("copied"); // the failures did not stop it
    expect(await readdir(paths.dist)).toEqual(["fine-1.0-py3-none-any.whl"]); // no temp folder or partial file left
  });

  it("is a CLI command that reads python and dist from the home's config", async () => {
    const paths = await newHome();
    await mkdir(paths.etc, { recursive: true });
    await writeFile(paths.config, "port_range: [5010, 5099]\nport_map:\n  web: 127.0.0.1:5000\npython: python3\ndist: wheels\n");
    const wheel = await writeWheel(join(work, "incoming-cli"), { name: "clitool", version: "2.0", requires: ["absent-dep", "helper>=1"] });
    const helper = await writeWheel(join(work, "incoming-cli"), { name: "helper", version: "1.0" });
    const program = new Command("sarge").option("--home <dir>").exitOverride();
    registerWheel(program);
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(["node", "sarge", "--home", paths.root, "wheel", "--json", wheel, helper]);
    } finally {
      spy.mockRestore();
    }
    const report = JSON.parse(written.join("")) as { dist: string; results: Array<{ action: string; files: string[]; missingDependencies: string[] }> };
    expect(report.dist).toBe(join(paths.root, "wheels"));
    // helper arrives in the same call, so only absent-dep is reported
    expect(report.results).toEqual([
      { input: wheel, action: "copied", files: ["clitool-2.0-py3-none-any.whl"], missingDependencies: ["absent-dep"] },
      { input: helper, action: "copied", files: ["helper-1.0-py3-none-any.whl"], missingDependencies: [] },
    ]);

    // a failed input makes the command fail, after the others were added
    const again = new Command("sarge").option("--home <dir>").exitOverride();
    registerWheel(again);
    const printed: string[] = [];
    const capture = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => printed.push(String(chunk)) > 0);
    try {
      const error = await failure(again.parseAsync(["node", "sarge", "--home", paths.root, "wheel", "no-such-thing", wheel]));
      expect(error.message).toBe(`1 of 2 not added: no-such-thing is not in ${join(paths.root, "wheels")}, and sarge wheel works offline — copy its wheel or sdist there, or give a local file or project folder`);
    } finally {
      capture.mockRestore();
    }
    // the home's own path, not one relative to the current folder
    expect(printed.join("")).toBe(`${wheel}: already in ${join(paths.root, "wheels")}: clitool-2.0-py3-none-any.whl\n  needs, not in dist yet: absent-dep\n`);
  });
});

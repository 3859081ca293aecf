/**
 * Hash-pinned requirements, pylock.toml, other tools' locks and pyproject.toml (docs/bundles.md),
 * end to end: real venv, the real pip of this machine (23: no pylock support of its own), wheels
 * built offline, nothing from the network.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../src/home/paths.js";
import { prepareEnvironment, type PreparedEnvironment } from "../../src/python-env/index.js";
import { MANIFEST } from "../../src/python-env/store.js";
import { SargeError } from "../../src/util/errors.js";
import { makeCheckout } from "../support/checkout.js";
import { runSarge } from "../support/cli.js";
import { wheelFileName, writeWheel } from "../support/wheels.js";

let work: string;
let dist: string;
const sums: Record<string, string> = {};

const LIBS = [
  { name: "alpha", version: "1.0", requires: ["beta==2.0"] },
  { name: "beta", version: "2.0" },
  { name: "gamma", version: "3.0" },
];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "sarge-locks-e2e-"));
  dist = join(work, "dist");
  for (const spec of LIBS) {
    const path = await writeWheel(dist, spec);
    sums[spec.name] = createHash("sha256").update(await readFile(path)).digest("hex");
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function newApp(files: Record<string, string>): Promise<{ paths: HomePaths; app: string }> {
  const paths = homePaths(await mkdtemp(join(work, "home-")));
  const app = join(paths.deploy, "web-abc123");
  await writeFiles(app, files);
  return { paths, app };
}

async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
}

async function prepare(files: Record<string, string>, warnings: string[] = []): Promise<{ result: PreparedEnvironment | null; app: string; paths: HomePaths }> {
  const { paths, app } = await newApp(files);
  const result = await prepareEnvironment({ paths, python: "python3", dist, appDir: app, log: () => undefined, warn: (line) => warnings.push(line) });
  return { result, app, paths };
}

async function refusal(files: Record<string, string>): Promise<{ message: string; envs: string[] }> {
  const { paths, app } = await newApp(files);
  try {
    await prepareEnvironment({ paths, python: "python3", dist, appDir: app, log: () => undefined });
  } catch (error) {
    expect(error).toBeInstanceOf(SargeError);
    const envs = (await readdir(paths.envs).catch(() => [])).filter((name) => !name.startsWith("."));
    return { message: (error as SargeError).message, envs };
  }
  throw new Error("expected a refusal");
}

/** Which of alpha, beta, gamma the environment imports, with their versions. */
function installed(app: string): string {
  const script = "import importlib.metadata as m\nfor n in ('alpha','beta','gamma'):\n  try: print(n, m.version(n))\n  except Exception: pass";
  return execFileSync(join(app, ".venv", "bin", "python"), ["-c", script], { encoding: "utf8" });
}

const hashed = (name: string, version: string, hash = sums[name]) => `${name}==${version} --hash=sha256:${hash}`;

describe("requirements.txt with hashes", () => {
  it("installs offline in pip's hash-checking mode", async () => {
    const { result, app } = await prepare({ "requirements.txt": `${hashed("alpha", "1.0")}\n${hashed("beta", "2.0")}\n` });
    expect(installed(app)).toBe("alpha 1.0\nbeta 2.0\n");
    const manifest = JSON.parse(await readFile(join(result!.envDir, MANIFEST), "utf8"));
    expect(manifest).toMatchObject({ hashChecked: true, findLinks: [dist] });
  });

  it("refuses a wheel whose hash differs before pip runs, naming the package and both hashes", async () => {
    const wrong = "0".repeat(64);
    const { message, envs } = await refusal({ "requirements.txt": `${hashed("alpha", "1.0")}\n${hashed("beta", "2.0", wrong)}\n` });
    expect(message).toBe(
      `hash mismatch, refusing to install: beta (requirements.txt:2) expects sha256:${wrong}, found sha256:${sums.beta} (${join(dist, wheelFileName({ name: "beta", version: "2.0" }))}) — the file is not the one the requirements were locked with`,
    );
    expect(envs).toEqual([]);
  });

  it("lists, in one message, the lines without hashes", async () => {
    const { message } = await refusal({ "requirements.txt": `${hashed("alpha", "1.0")}\nbeta==2.0\ngamma\n` });
    expect(message).toBe(
      "hashes on some requirement lines only: pip's hash-checking mode needs a --hash on every line; these have none: requirements.txt:2 (beta==2.0), requirements.txt:3 (gamma)",
    );
  });

  it("names a missing wheel", async () => {
    const { message } = await refusal({ "requirements.txt": `${hashed("alpha", "1.0")}\n${hashed("beta", "2.0")}\nabsent==1.0 --hash=sha256:${"1".repeat(64)}\n` });
    expect(message).toBe(`not in dist: absent==1.0 — add the wheels to ${dist} or build them with \`sarge wheel\``);
  });
});

function pylock(packages: string[]): string {
  return ['lock-version = "1.0"', 'created-by = "sarge tests"', "", ...packages].join("\n");
}

const lockedWheel = (name: string, version: string, extra = "") =>
  [
    "[[packages]]",
    `name = "${name}"`,
    `version = "${version}"`,
    extra,
    "[[packages.wheels]]",
    `url = "https://files.example.invalid/${wheelFileName({ name, version })}"`,
    `hashes = { sha256 = "${sums[name] ?? "2".repeat(64)}" }`,
    "",
  ].join("\n");

describe("pylock.toml", () => {
  it("installs its wheels offline, hash-checked, with markers evaluated by pip", async () => {
    const lock = pylock([
      lockedWheel("alpha", "1.0"),
      lockedWheel("beta", "2.0"),
      lockedWheel("gamma", "3.0", `marker = "python_version < '3'"`),
      lockedWheel("ghost", "9.9", `marker = "sys_platform == 'win32'"`),
    ]);
    const { app } = await prepare({ "pylock.toml": lock });
    expect(installed(app)).toBe("alpha 1.0\nbeta 2.0\n");
    expect(await readFile(join(app, ".sarge", "pylock.requirements.txt"), "utf8")).toContain(`alpha==1.0 --hash=sha256:${sums.alpha}\n`);
  });

  it("decides markers on extras and dependency_groups itself (pip 23 cannot): the default groups, no extras", async () => {
    const lock = pylock([
      'default-groups = ["default"]',
      lockedWheel("alpha", "1.0", `marker = "'default' in dependency_groups"`),
      lockedWheel("beta", "2.0", `marker = "'default' in dependency_groups and python_version >= '3'"`),
      lockedWheel("gamma", "3.0", `marker = "'dev' in dependency_groups"`),
      lockedWheel("ghost", "9.9", `marker = "'fancy' in extras"`),
    ]);
    const { app } = await prepare({ "pylock.toml": lock });
    expect(installed(app)).toBe("alpha 1.0\nbeta 2.0\n");
    const derived = await readFile(join(app, ".sarge", "pylock.requirements.txt"), "utf8");
    expect(derived).toContain(`beta==2.0 ; python_version >= '3' --hash=sha256:${sums.beta}\n`);
    const requirementLines = derived.split("\n").filter((line) => !line.startsWith("#"));
    expect(requirementLines.join("\n")).not.toMatch(/gamma|ghost|dependency_groups|extras/);
  });

  it("refuses a locked wheel whose hash differs before pip runs, naming the package and both hashes", async () => {
    const wrong = "4".repeat(64);
    const tampered = lockedWheel("beta", "2.0").replace(sums.beta!, wrong);
    const { message, envs } = await refusal({ "pylock.toml": pylock([lockedWheel("alpha", "1.0"), tampered]) });
    expect(message).toBe(
      `hash mismatch, refusing to install: beta (pylock.toml) expects sha256:${wrong}, found sha256:${sums.beta} (${join(dist, wheelFileName({ name: "beta", version: "2.0" }))}) — the file is not the one the requirements were locked with`,
    );
    expect(envs).toEqual([]);
  });

  it("names, in one message, entries with only an sdist or a URL that is not here", async () => {
    const sdistOnly = ["[[packages]]", 'name = "from-source"', 'version = "1.0"', "[packages.sdist]", 'url = "https://x.invalid/from-source-1.0.tar.gz"', `hashes = { sha256 = "${"3".repeat(64)}" }`, ""].join("\n");
    const { message } = await refusal({ "pylock.toml": pylock([lockedWheel("alpha", "1.0"), sdistOnly, lockedWheel("faraway", "2.0")]) });
    expect(message).toBe(
      "pylock.toml: these packages have no wheel sarge can install offline: from-source 1.0 (an sdist only), faraway 2.0 (faraway-2.0-py3-none-any.whl not in dist or the bundle) — build the wheels (`pip wheel`) into dist or the bundle",
    );
  });

  it("is bundled with the wheels it locks, resolved from the lock", async () => {
    const checkout = join(work, "pylock-app");
    makeCheckout(checkout, { files: { Procfile: "web: python -m http.server $PORT\n", "pylock.toml": pylock([lockedWheel("alpha", "1.0"), lockedWheel("beta", "2.0")]) } });
    const result = await runSarge(["bundle", "--wheels", dist, "-o", join(work, "out"), "--json"], { cwd: checkout });
    expect(result.code, result.stderr).toBe(0);
    const bundle = JSON.parse(result.stdout);
    expect(bundle.wheels).toEqual([wheelFileName({ name: "alpha", version: "1.0" }), wheelFileName({ name: "beta", version: "2.0" })]);
    expect(execFileSync("tar", ["-xzOf", bundle.file, ".sarge/install.txt"], { encoding: "utf8" })).toBe("-r pylock.requirements.txt\n--no-index\n");
  });
});

/**
 * A real PEP 517 build backend, small enough to write here: reads [project] with tomllib and zips
 * the app's package with a RECORD, dated SOURCE_DATE_EPOCH (as setuptools and flit_core do).
 */
const TINY_BACKEND = `
import base64, hashlib, os, time, tomllib, zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open("pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    name, version = project["name"], project["version"]
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/{n}": open(os.path.join(name, n), "rb").read() for n in sorted(os.listdir(name)) if n.endswith(".py")}
    files[f"{info}/METADATA"] = "".join([f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"] + [f"Requires-Dist: {d}\\n" for d in project.get("dependencies", [])]).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: tiny\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    digest = lambda data: base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record = "".join(f"{p},sha256={digest(d)},{len(d)}\\n" for p, d in files.items()) + f"{info}/RECORD,,\\n"
    date = time.gmtime(max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800))[:6]
    wheel = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as z:
        for p, d in [*files.items(), (f"{info}/RECORD", record.encode())]:
            z.writestr(zipfile.ZipInfo(p, date), d)
    return wheel
`;

const tinyApp = (buildSystem: string) => ({
  "pyproject.toml": `${buildSystem}\n[project]\nname = "tinyapp"\nversion = "0.1"\ndependencies = ["alpha>=1"]\n`,
  "tinyapp/__init__.py": "GREETING = 'hello from tinyapp'\n",
});

/** What the environment's python imports from outside the app folder: the app's package and alpha. */
function appImports(app: string): string {
  const script = "import importlib.metadata as m, tinyapp\nprint(tinyapp.GREETING, m.version('tinyapp'), m.version('alpha'))";
  return execFileSync(join(app, ".venv", "bin", "python"), ["-c", script], { encoding: "utf8", cwd: tmpdir() });
}

describe("a pyproject.toml app's own package", () => {
  const nothingPinned =
    "pyproject.toml has no lock next to it: its [project.dependencies] are installed as ranges and nothing is pinned, so another build may get other versions — commit a requirements.txt with hashes or a pylock.toml";

  it("is built offline by its backend (here in the tree, importable) and installed with its dependencies; the same sources reuse the environment", async () => {
    const files = { ...tinyApp('[build-system]\nrequires = []\nbuild-backend = "tiny_backend"\nbackend-path = ["_build"]'), "_build/tiny_backend.py": TINY_BACKEND };
    const warnings: string[] = [];
    const { app, paths } = await prepare(files, warnings);
    expect(appImports(app)).toBe("hello from tinyapp 0.1 1.0\n");
    expect(warnings).toEqual([nothingPinned]);
    const again = join(paths.deploy, "web-def456");
    await writeFiles(again, files);
    // the same commit: git archive gives every file the commit's time
    const { mtime } = await stat(join(app, "pyproject.toml"));
    await utimes(join(again, "pyproject.toml"), mtime, mtime);
    const second = await prepareEnvironment({ paths, python: "python3", dist, appDir: again, log: () => undefined, warn: () => undefined });
    expect(second?.reused).toBe(true);
  });

  it("is built with its backend's wheel from dist when the interpreter does not have it", async () => {
    const backendDist = await mkdtemp(join(work, "backend-dist-"));
    for (const file of await readdir(dist)) await copyFile(join(dist, file), join(backendDist, file));
    await writeWheel(backendDist, { name: "tiny-backend", version: "1.0", files: { "tiny_backend/__init__.py": TINY_BACKEND } });
    const { paths, app } = await newApp(tinyApp('[build-system]\nrequires = ["tiny-backend"]\nbuild-backend = "tiny_backend"'));
    await prepareEnvironment({ paths, python: "python3", dist: backendDist, appDir: app, log: () => undefined, warn: () => undefined });
    expect(appImports(app)).toBe("hello from tinyapp 0.1 1.0\n");
  });

  it("says why it is not installed when its backend is nowhere offline, and installs the dependencies", async () => {
    const warnings: string[] = [];
    const { app } = await prepare(tinyApp('[build-system]\nrequires = ["absent-backend"]\nbuild-backend = "absent_backend"'), warnings);
    expect(installed(app)).toBe("alpha 1.0\nbeta 2.0\n");
    expect(warnings[0]).toBe(nothingPinned);
    expect(warnings[1]).toMatch(
      new RegExp(
        `^the app's own package \\(tinyapp\\) is not installed, only its dependencies: its build backend absent_backend cannot build it offline — it must be importable by \\S+ or its wheel be in ${dist} \\(with the interpreter's own build backend: .+; with the build backend from dist \\(and a bundle's wheels\\): .*absent-backend.*\\)$`,
      ),
    );
  });
});

describe("other lock files and pyproject.toml", () => {
  it("refuses a lone uv.lock with the command that exports it", async () => {
    const { message } = await refusal({ "uv.lock": "version = 1\n", "pyproject.toml": '[project]\nname = "app"\ndependencies = ["alpha"]\n' });
    expect(message).toBe(
      "uv.lock is uv's own lock format, which pip cannot install from, and there is no requirements.txt or pylock.toml — export the lock and commit the result: uv export --format requirements.txt --no-dev -o requirements.txt",
    );
  });

  it("installs pyproject.toml's [project.dependencies] with a warning that nothing is pinned", async () => {
    const warnings: string[] = [];
    const { app } = await prepare({ "pyproject.toml": '[project]\nname = "app"\nversion = "0.1"\ndependencies = ["alpha>=1", "gamma"]\n' }, warnings);
    expect(installed(app)).toBe("alpha 1.0\nbeta 2.0\ngamma 3.0\n");
    expect(warnings).toEqual([
      "pyproject.toml has no lock next to it: its [project.dependencies] are installed as ranges and nothing is pinned, so another build may get other versions — commit a requirements.txt with hashes or a pylock.toml",
    ]);
  });
});

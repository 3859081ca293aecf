import { execFileSync } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { environmentVariables } from "../../../src/python-env/index.js";
import { environmentKey } from "../../../src/python-env/key.js";
import { pipFailureError } from "../../../src/python-env/messages.js";
import {
  MANIFEST,
  collectEnvironments,
  endBuild,
  environmentKeyOf,
  findEnvironment,
  publish,
  removeStale,
  startBuild,
} from "../../../src/python-env/store.js";
import { homePaths, type HomePaths } from "../../../src/home/paths.js";
import { wheelBytes, writeWheel } from "../../support/wheels.js";

const DEAD_PID = 2 ** 22 + 12345; // above pid_max's default: never a live process

let root: string;
let paths: HomePaths;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sarge-envs-"));
  paths = homePaths(root);
  await mkdir(paths.envs, { recursive: true });
  await mkdir(paths.deploy, { recursive: true });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A finished environment folder, published or not. */
async function fakeBuild(key: string, pid: number, options: { publish: boolean }): Promise<string> {
  const dir = join(paths.envs, `${key}.b${pid}-abcd`);
  await mkdir(join(dir, "bin"), { recursive: true });
  await writeFile(join(dir, MANIFEST), JSON.stringify({ key }));
  if (options.publish) await publish(paths.envs, key, dir);
  return dir;
}

const keyA = "a".repeat(20);
const keyB = "b".repeat(20);
const keyC = "c".repeat(20);

describe("environment key", () => {
  const interpreter = { executable: "/usr/bin/python3.11", version: "3.11.7", full: "3.11.7 (main)", pipRunner: null };
  const base = {
    interpreter,
    requirements: [{ name: "requirements.txt", bytes: Buffer.from("flask\n") }],
    dist: "/h/dist",
    distFiles: [{ file: "flask-3.1.0-py3-none-any.whl", size: 100, mtimeMs: 1 }],
    bundleWheels: [{ file: "click-8.1-py3-none-any.whl", sha256: "1".repeat(64) }],
  };

  it("is stable and changes with each input", () => {
    const key = environmentKey(base);
    expect(key).toMatch(/^[0-9a-f]{20}$/);
    expect(environmentKey(structuredClone(base))).toBe(key);
    const variants = [
      { ...base, requirements: [{ name: "requirements.txt", bytes: Buffer.from("flask \n") }] },
      { ...base, interpreter: { ...interpreter, executable: "/opt/python3.11" } },
      { ...base, interpreter: { ...interpreter, full: "3.11.8 (main)" } },
      { ...base, distFiles: [{ ...base.distFiles[0]!, mtimeMs: 2 }] },
      { ...base, distFiles: [{ ...base.distFiles[0]!, size: 101 }] },
      { ...base, distFiles: [...base.distFiles, { file: "click-8.whl", size: 1, mtimeMs: 1 }] },
      { ...base, requirements: [...base.requirements, { name: "base.txt", bytes: Buffer.from("") }] },
      { ...base, bundleWheels: [{ ...base.bundleWheels[0]!, sha256: "2".repeat(64) }] },
      { ...base, bundleWheels: [] },
    ];
    for (const variant of variants) expect(environmentKey(variant)).not.toBe(key);
  });
});

describe("var/envs store", () => {
  it("publishes with an atomic link, and finds only published, whole environments", async () => {
    const dir = startBuild(paths.envs, keyA);
    expect(dir).toMatch(new RegExp(`/${keyA}\\.b${process.pid}-[0-9a-f]+$`));
    await mkdir(dir);
    expect(await findEnvironment(paths.envs, keyA)).toBeNull();
    await writeFile(join(dir, MANIFEST), JSON.stringify({ key: keyA }));
    expect(await findEnvironment(paths.envs, keyA)).toBeNull(); // not published yet
    const link = await publish(paths.envs, keyA, dir);
    endBuild(dir);
    expect(link).toBe(join(paths.envs, keyA));
    expect(await readlink(link)).toBe(dir.split("/").pop());
    expect(await findEnvironment(paths.envs, keyA)).toBe(link);
    expect((await readdir(paths.envs)).sort()).toEqual([keyA, dir.split("/").pop()]);
  });

  it("removes builds whose builder died, keeps published ones and live builders' folders", async () => {
    const published = await fakeBuild(keyA, DEAD_PID, { publish: true });
    const killed = await fakeBuild(keyB, DEAD_PID, { publish: false });
    const running = await fakeBuild(keyC, process.ppid, { publish: false }); // a live pid: someone else building
    const abandoned = await fakeBuild("e".repeat(20), process.ppid, { publish: false }); // live pid, but 7 hours old
    const old = new Date(Date.now() - 7 * 3600_000);
    await utimes(abandoned, old, old);
    await symlink("gone.b1-x", join(paths.envs, "d".repeat(20))); // dangling
    const removed = await removeStale(paths.envs);
    expect(removed.sort()).toEqual(["d".repeat(20), killed.split("/").pop(), abandoned.split("/").pop()].sort());
    expect(await lstat(published)).toBeTruthy();
    expect(await lstat(running)).toBeTruthy();
    expect(await findEnvironment(paths.envs, keyA)).not.toBeNull();
  });

  it("collects environments not kept, except those an instance folder still links to", async () => {
    const a = await fakeBuild(keyA, DEAD_PID, { publish: true });
    const b = await fakeBuild(keyB, DEAD_PID, { publish: true });
    const c = await fakeBuild(keyC, DEAD_PID, { publish: true });
    const instance = join(paths.deploy, "web-old001");
    await mkdir(instance);
    await symlink(join(paths.envs, keyB), join(instance, ".venv"));
    const removed = await collectEnvironments(paths, new Set([keyA]));
    expect(removed).toEqual([keyC]);
    expect(await lstat(a)).toBeTruthy();
    expect(await lstat(b)).toBeTruthy();
    await expect(lstat(c)).rejects.toThrow();
    await expect(lstat(join(paths.envs, keyC))).rejects.toThrow();
  });

  it("reads the key an app folder links to", async () => {
    const app = join(paths.deploy, "web-abc123");
    await mkdir(app);
    expect(environmentKeyOf(app)).toBeNull();
    await symlink(join(paths.envs, keyA), join(app, ".venv"));
    expect(environmentKeyOf(app)).toBe(keyA);
    const other = join(paths.deploy, "web-def456");
    await mkdir(join(other, ".venv"), { recursive: true }); // a folder, not a link
    expect(environmentKeyOf(other)).toBeNull();
  });
});

describe("instance environment variables", () => {
  it("puts the environment's bin first and sets VIRTUAL_ENV", () => {
    expect(environmentVariables("/h/var/envs/k", "/usr/local/bin:/usr/bin")).toEqual({
      PATH: "/h/var/envs/k/bin:/usr/local/bin:/usr/bin",
      VIRTUAL_ENV: "/h/var/envs/k",
    });
    expect(environmentVariables("/e", "/e/bin:/bin").PATH).toBe("/e/bin:/bin");
  });
});

describe("pip failures become one sentence", () => {
  const context = { dist: "/h/dist", listing: { files: [], packages: new Map() }, pythonVersion: "3.11.7" };

  it("names a missing dependency and who needs it", () => {
    const output = [
      "Processing /h/dist/deeper-1.0-py3-none-any.whl (from deep->-r requirements.txt (line 1))",
      "ERROR: Could not find a version that satisfies the requirement ghost2>=3 (from deeper) (from versions: none)",
      "ERROR: No matching distribution found for ghost2>=3",
    ].join("\n");
    const error = pipFailureError(output, 1, context);
    expect(error.message).toBe("not in dist: ghost2>=3 (required by deeper) — add the wheels to /h/dist or build them with `sarge wheel`");
    expect(error.detail).toContain("No matching distribution found for ghost2>=3");
  });

  it("says when dist has the name but no file this Python can use", () => {
    const listing = {
      files: [],
      packages: new Map([["cp312only", [{ file: "cp312only-1.0-cp312-cp312-linux_x86_64.whl", path: "/h/dist/cp312only-1.0-cp312-cp312-linux_x86_64.whl", version: "1.0", kind: "wheel" as const }]]]),
    };
    const output = "ERROR: Could not find a version that satisfies the requirement cp312only (from versions: none)\n";
    expect(pipFailureError(output, 1, { ...context, listing }).message).toContain(
      "cp312only (dist has only cp312only-1.0-cp312-cp312-linux_x86_64.whl, not usable by this Python)",
    );
  });

  it("explains a wrong Python and a conflict", () => {
    const wrong = pipFailureError("ERROR: Package 'newpy' requires a different Python: 3.11.7 not in '>=3.99'\n", 1, context);
    expect(wrong.message).toContain("newpy in dist requires Python >=3.99, but the environment uses Python 3.11.7");
    const conflict = pipFailureError(
      "ERROR: Cannot install a and b because these package versions have conflicting dependencies.\n\nThe conflict is caused by:\n    The user requested leaf<2\n    mid 1.2 depends on leaf==2.0\n\nTo fix this...\n",
      1,
      context,
    );
    expect(conflict.message).toBe("the requirements conflict with each other or with what dist holds: The user requested leaf<2; mid 1.2 depends on leaf==2.0");
  });

  it("falls back to pip's last error line", () => {
    expect(pipFailureError("ERROR: something odd\n", 2, context).message).toBe("pip could not install the requirements from /h/dist: something odd");
  });
});

describe("hand-made wheels", () => {
  it("are deterministic zips that python's zipfile reads, with a RECORD pip accepts", async () => {
    const spec = { name: "My-Lib", version: "1.0", requires: ["dep>=1"], entryPoints: { mine: "my_lib:main" } };
    expect(wheelBytes(spec).equals(wheelBytes(spec))).toBe(true);
    const path = await writeWheel(join(root, "dist"), spec);
    expect(path.endsWith("My_Lib-1.0-py3-none-any.whl")).toBe(true);
    const listing = execFileSync(
      "python3",
      ["-I", "-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); z.testzip(); print(z.read('My_Lib-1.0.dist-info/METADATA').decode()); print('\\n'.join(z.namelist()))", path],
      { encoding: "utf8" },
    );
    expect(listing).toContain("Requires-Dist: dep>=1");
    expect(listing).toContain("my_lib/__init__.py");
    expect(listing).toContain("My_Lib-1.0.dist-info/entry_points.txt");
    expect(listing).toContain("My_Lib-1.0.dist-info/RECORD");
  });
});

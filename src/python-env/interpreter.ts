/**
 * Which interpreter `python: python3` means, as a real path and version (part of the key).
 *
 * Asking the interpreter costs ~15 ms for a binary but ~90-160 ms through a pyenv shim (a bash
 * script), which alone would blow the 0.1 s reuse budget. So the answer is cached in
 * var/envs/.interpreters.json and trusted only while everything that decides it is unchanged:
 * the binary's own stat, or for a pyenv shim the shim, the PYENV_* variables and every file
 * pyenv reads to pick a version (.python-version from the home up to /, $PYENV_ROOT/version).
 * Any other wrapper script is asked every time.
 */
import { runChild } from "../util/run-child.js";
import { constants } from "node:fs";
import { access, open, readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import { basename, delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { SargeError } from "../util/errors.js";
import type { HomePaths } from "../home/paths.js";
import { childEnvironment } from "./child-env.js";

export interface Interpreter {
  /** The real path of the interpreter binary; venvs and pip are run with it, never via a shim. */
  executable: string;
  /** "3.11.7" */
  version: string;
  /** sys.version, whole (includes the build date and compiler) */
  full: string;
  /** pip's `__pip-runner__.py` in this interpreter's site-packages, or null (no pip, or pip < 22.3). */
  pipRunner: string | null;
}

/** Also finds the interpreter's own pip and the runner file `pip --python` uses (pip >= 22.3). */
const PROBE = [
  "import json, os, sys",
  "from importlib.util import find_spec",
  "spec = find_spec('pip')",
  "runner = os.path.join(os.path.dirname(spec.origin), '__pip-runner__.py') if spec and spec.origin else None",
  "print(json.dumps({'executable': os.path.realpath(sys.executable), 'version': '%d.%d.%d' % sys.version_info[:3],",
  "                  'full': sys.version, 'pipRunner': runner if runner and os.path.isfile(runner) else None}))",
].join("\n");

const CACHE_FORMAT = 2;

interface CacheEntry {
  fingerprint: string;
  interpreter: Interpreter;
  executableStat: string;
}

export async function resolveInterpreter(python: string, paths: HomePaths): Promise<Interpreter> {
  const located = await locate(python, paths.root);
  const fingerprint = await fingerprintOf(located, paths.root);
  const cacheFile = join(paths.envs, ".interpreters.json");
  const cache = await readCache(cacheFile);
  const cached = cache[python];
  if (fingerprint !== null && cached && cached.fingerprint === fingerprint) {
    if ((await statSignature(cached.interpreter.executable)) === cached.executableStat) return cached.interpreter;
  }

  const result = await runChild(located, ["-I", "-c", PROBE], { cwd: paths.root, env: childEnvironment({ keepPyenv: true }), timeoutMs: 30_000 });
  let interpreter: Interpreter;
  try {
    if (result.exitCode !== 0) throw new Error((result.stderr || result.stdout || result.failure || "").trim());
    interpreter = JSON.parse(result.stdout.trim().split("\n").pop()!) as Interpreter;
    if (!interpreter.executable || !interpreter.version) throw new Error("no executable reported");
    interpreter.pipRunner ??= null;
  } catch (error) {
    throw new SargeError(`the python interpreter "${python}" (${located}) does not run`, {
      detail: error instanceof Error ? error.message : String(error),
    });
  }
  if (fingerprint !== null) {
    cache[python] = { fingerprint, interpreter, executableStat: await statSignature(interpreter.executable) };
    await writeCache(cacheFile, cache);
  }
  return interpreter;
}

/** The file `python` names: a path (relative to the home), or the first match on PATH. */
async function locate(python: string, home: string): Promise<string> {
  if (python.includes("/")) {
    const path = isAbsolute(python) ? python : resolve(home, python);
    if (await isExecutable(path)) return path;
  } else {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, python);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  throw new SargeError(`python interpreter "${python}" not found (etc/sarge.yaml: python)`, {
    detail: python.includes("/") ? undefined : `searched PATH=${process.env.PATH ?? ""}`,
  });
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function statSignature(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch {
    return "-";
  }
}

/** What decides the answer, or null when that cannot be known without asking (unknown wrapper script). */
async function fingerprintOf(located: string, home: string): Promise<string | null> {
  const real = await realpath(located);
  const head = await readHead(real);
  if (head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    return JSON.stringify([CACHE_FORMAT, "binary", real, await statSignature(real)]);
  }
  const text = head.toString("latin1");
  if (basename(dirname(located)) === "shims" && text.startsWith("#!") && text.includes("pyenv")) {
    const pyenvEnv = Object.entries(process.env)
      .filter(([name]) => name.startsWith("PYENV"))
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const root = process.env.PYENV_ROOT ?? dirname(dirname(located));
    const versionFiles = [join(root, "version")];
    for (let dir = resolve(process.env.PYENV_DIR ?? home); ; dir = dirname(dir)) {
      versionFiles.push(join(dir, ".python-version"));
      if (dirname(dir) === dir) break;
    }
    const signatures = await Promise.all(versionFiles.map(async (file) => [file, await statSignature(file)]));
    return JSON.stringify([CACHE_FORMAT, "pyenv", located, await statSignature(located), pyenvEnv, signatures]);
  }
  return null;
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readCache(file: string): Promise<Record<string, CacheEntry>> {
  try {
    const value: unknown = JSON.parse(await readFile(file, "utf8"));
    return value && typeof value === "object" ? (value as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

async function writeCache(file: string, cache: Record<string, CacheEntry>): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(cache, null, 2) + "\n");
    await rename(temp, file);
  } catch {
    // a cache that cannot be written only costs the next deploy one probe
  }
}

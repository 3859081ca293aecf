/**
 * `sarge wheel`: put wheels into dist/, offline. A .whl is copied; a project folder or an sdist
 * is built with the configured interpreter's pip (`pip wheel --no-index --no-deps --find-links
 * dist`); a bare requirement is built from an sdist already in dist, or reported as present.
 * Nothing reaches a package index: pip runs isolated from pip.conf and PIP_* like deploys do.
 *
 * Build backends: first `--no-build-isolation` (the backend the interpreter already has, e.g.
 * setuptools + wheel), then with isolation, which takes the backend from dist only. New files
 * appear in dist by rename, so a deploy never sees half a wheel.
 */
import { runChild } from "../util/run-child.js";
import { copyFile, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { SargeError } from "../util/errors.js";
import type { HomePaths } from "../home/paths.js";
import { buildWheelOffline } from "./build-wheel.js";
import { childEnvironment } from "./child-env.js";
import { findMissing, listDist, parseDistFileName } from "./dist.js";
import { resolveInterpreter } from "./interpreter.js";
import { parseRequirement, type Requirement } from "./requirements.js";
import { satisfies } from "./versions.js";

export interface WheelResult {
  input: string;
  action: "copied" | "built" | "present" | "failed";
  files: string[];
  /** Requires-Dist entries of these wheels that dist cannot satisfy. */
  missingDependencies: string[];
  /** Why it failed (action "failed"): one sentence, and pip's words. */
  error?: string;
  detail?: string;
}

/** What `sarge wheel --json` prints. */
export interface WheelReport {
  dist: string;
  results: WheelResult[];
}

export interface AddToDistOptions {
  paths: HomePaths;
  python: string;
  dist: string;
  /** pip's output, line by line. */
  log?: (line: string) => void;
  /** Where relative paths are resolved; default process.cwd(). */
  cwd?: string;
}

const sdistPattern = /\.(tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$/i;

export async function addToDist(inputs: string[], options: AddToDistOptions): Promise<WheelResult[]> {
  const dist = resolve(options.dist);
  await mkdir(dist, { recursive: true });
  const results: WheelResult[] = [];
  for (const input of inputs) {
    try {
      results.push(await addOne(input, dist, options));
    } catch (error) {
      if (!(error instanceof SargeError)) throw error;
      results.push({ input, action: "failed", files: [], missingDependencies: [], error: error.message, ...(error.detail ? { detail: error.detail } : {}) });
    }
  }
  // after all of them: a wheel's dependency may be one of the other inputs
  for (const result of results) result.missingDependencies = await missingDependencies(result.files, dist, options);
  return results;
}

/** Each input on its own: one that cannot be added does not stop the others. */
async function addOne(input: string, dist: string, options: AddToDistOptions): Promise<WheelResult> {
  const path = resolve(options.cwd ?? process.cwd(), input);
  const info = await stat(path).catch(() => null);
  if (info?.isFile() && input.toLowerCase().endsWith(".whl")) return copyWheel(input, path, dist);
  if (info?.isDirectory() || (info?.isFile() && sdistPattern.test(input))) return build(input, path, dist, options);
  if (info) throw new SargeError(`${input} is neither a wheel, an sdist nor a project folder`);
  return fromRequirement(input, dist, options);
}

async function copyWheel(input: string, path: string, dist: string): Promise<WheelResult> {
  const name = basename(path);
  const parsed = parseDistFileName(name);
  if (!parsed || parsed.kind !== "wheel") throw new SargeError(`${input}: not a wheel file name (name-version-python-abi-platform.whl)`);
  const target = join(dist, name);
  const existing = await readFile(target).catch(() => null);
  if (existing && existing.equals(await readFile(path))) return { input, action: "present", files: [name], missingDependencies: [] };
  const temp = join(dist, `.${name}.${process.pid}.tmp`);
  await copyFile(path, temp);
  await rename(temp, target);
  return { input, action: "copied", files: [name], missingDependencies: [] };
}

async function fromRequirement(input: string, dist: string, options: AddToDistOptions): Promise<WheelResult> {
  const parsed = parseRequirement(input);
  if (parsed === null || parsed === "reference") {
    throw new SargeError(`${input}: no such file or folder, and not a requirement`);
  }
  const listing = await listDist(dist);
  const candidates = listing.packages.get(parsed.key) ?? [];
  const fits = (version: string) => parsed.specifiers === null || satisfies(version, parsed.specifiers) !== false;
  const wheels = candidates.filter((c) => c.kind === "wheel" && fits(c.version));
  if (wheels.length > 0) return { input, action: "present", files: wheels.map((w) => w.file), missingDependencies: [] };
  if (!candidates.some((c) => c.kind === "sdist" && fits(c.version))) {
    throw new SargeError(
      `${input} is not in ${dist}, and sarge wheel works offline — copy its wheel or sdist there, or give a local file or project folder`,
    );
  }
  return build(input, input, dist, options);
}

/** pip wheel into a private folder inside dist, then rename the new wheels into dist. */
async function build(input: string, target: string, dist: string, options: AddToDistOptions): Promise<WheelResult> {
  const interpreter = await resolveInterpreter(options.python, options.paths);
  const out = join(dist, `.sarge-wheel-${process.pid}`);
  await rm(out, { recursive: true, force: true });
  await mkdir(out);
  try {
    const built = await buildWheelOffline({ interpreter, target, findLinks: [dist], outDir: out, cwd: options.cwd ?? process.cwd(), log: options.log });
    if ("attempts" in built) {
      throw new SargeError(
        `cannot build a wheel from ${input} offline: its build backend must be installed for ${interpreter.executable} (e.g. setuptools and wheel) or be in ${dist} as wheels`,
        { detail: built.attempts.join("\n") },
      );
    }
    for (const file of built.files) await rename(join(out, file), join(dist, file));
    return { input, action: "built", files: built.files, missingDependencies: [] };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** Requires-Dist of the given wheels (read with the interpreter's zipfile) that dist cannot satisfy. */
async function missingDependencies(files: string[], dist: string, options: AddToDistOptions): Promise<string[]> {
  if (files.length === 0) return [];
  const interpreter = await resolveInterpreter(options.python, options.paths);
  const script =
    "import sys,zipfile\n" +
    "for p in sys.argv[1:]:\n" +
    "  z=zipfile.ZipFile(p)\n" +
    "  m=[n for n in z.namelist() if n.count('/')==1 and n.endswith('.dist-info/METADATA')]\n" +
    "  for line in (z.read(m[0]).decode('utf-8','replace').split('\\n\\n')[0].splitlines() if m else []):\n" +
    "    if line.startswith('Requires-Dist:'): print(line.split(':',1)[1].strip())\n";
  const result = await runChild(interpreter.executable, ["-I", "-c", script, ...files.map((file) => join(dist, file))], { env: childEnvironment() });
  if (result.exitCode !== 0) return [];
  const requirements: Requirement[] = [];
  for (const line of result.stdout.split("\n")) {
    const parsed = parseRequirement(line.trim());
    // dependencies behind a marker (extras, other platforms) are pip's call at install time
    if (parsed && parsed !== "reference" && parsed.marker === null) {
      requirements.push({ ...parsed, text: line.trim(), where: "", constraint: false, hashes: [] });
    }
  }
  return findMissing(requirements, await listDist(dist)).map((m) => m.requirement.text);
}

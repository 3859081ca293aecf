/**
 * Python environments: one immutable virtualenv per key
 * under var/envs/, built offline from dist/ (and a bundle's own wheels) only, linked from each instance as `.venv`.
 */
import { mkdir } from "node:fs/promises";
import { delimiter, join, relative, resolve } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { buildAppWheel } from "./app-wheel.js";
import { buildEnvironment } from "./build.js";
import { findMissing } from "./dist.js";
import { inspectFindLinks, type FindLinks } from "./find-links.js";
import { checkFileHashes, checkHashCoverage, usesHashes } from "./hashes.js";
import { resolveInterpreter, type Interpreter } from "./interpreter.js";
import { environmentKey, type BundleWheel } from "./key.js";
import { missingItems, notInDistError, requirementsProblemError } from "./messages.js";
import type { ParsedRequirements } from "./requirements.js";
import { findInstallSource, readSourceRequirements } from "./source.js";
import { endBuild, findEnvironment, linkEnvironment, publish, removeStale, startBuild } from "./store.js";

export { collectEnvironments, environmentKeyOf } from "./store.js";

/** Builds under way in this process, by envs folder + key: a second instance of the same deploy waits for the first. */
const inFlight = new Map<string, Promise<string>>();

export interface PrepareOptions {
  paths: HomePaths;
  /** config.python: a command on PATH or a path. */
  python: string;
  /** config.dist, absolute. */
  dist: string;
  /** The unpacked instance folder. */
  appDir: string;
  /** One line at a time; pip's whole output comes through here. */
  log: (line: string) => void;
  /** What the user should hear about (nothing pinned); default: the log. */
  warn?: (line: string) => void;
  /** A cancelled release stops pip (its process group) and the build fails. */
  cancel?: AbortSignal;
}

export interface PreparedEnvironment {
  key: string;
  /** `var/envs/<key>`: what `.venv` links to and VIRTUAL_ENV names. */
  envDir: string;
  reused: boolean;
}

/**
 * Builds or reuses the environment for the app's requirements (requirements.txt, pylock.toml or
 * pyproject.toml: source.ts) and links `<appDir>/.venv` to it. pip finds files in dist/ and, for a
 * bundle, in its `.sarge/wheels/`. Null when the app declares no requirements (no environment).
 * Throws SargeError naming every requirement those folders cannot satisfy, every hash mismatch,
 * or what pip could not install.
 */
export async function prepareEnvironment(options: PrepareOptions): Promise<PreparedEnvironment | null> {
  const { paths, appDir, log } = options;
  const dist = resolve(options.dist);
  const wheels = await inspectFindLinks(dist, appDir);
  const source = await findInstallSource(appDir, (file) => wheels.names.has(file));
  if (source === null) return null;
  if (source.warning) (options.warn ?? log)(source.warning);

  await mkdir(paths.envs, { recursive: true });
  const [requirements, interpreter] = await Promise.all([readSourceRequirements(source, appDir), resolveInterpreter(options.python, paths)]);
  if (requirements.problems.length > 0) throw requirementsProblemError(requirements.problems, wheels.label);

  const app = source.project
    ? await buildAppWheel({ appDir, project: source.project, interpreter, findLinks: wheels.dirs, label: wheels.label, log, cancel: options.cancel })
    : null;
  if (app && "notInstalled" in app) (app.warn ? (options.warn ?? log) : log)(app.notInstalled);
  const appWheel = app && "installed" in app ? app.installed : undefined;
  const key = environmentKey({ interpreter, requirements: requirements.files, dist, distFiles: wheels.distFiles, bundleWheels: wheels.bundle, appWheel });
  const existing = await findEnvironment(paths.envs, key);
  if (existing) {
    await linkEnvironment(appDir, existing);
    log(`python environment ${key}: reused (requirements, Python ${interpreter.version}, dist and bundled wheels unchanged)`);
    return { key, envDir: existing, reused: true };
  }

  const id = `${paths.envs}\0${key}`;
  const pending = inFlight.get(id);
  if (pending) {
    const envDir = await pending;
    await linkEnvironment(appDir, envDir);
    log(`python environment ${key}: reused (built for another instance of this deploy)`);
    return { key, envDir, reused: true };
  }

  checkHashCoverage(requirements.requirements);
  const missing = findMissing(requirements.requirements, wheels.listing);
  if (missing.length > 0) throw notInDistError(missingItems(missing), wheels.label);
  await checkFileHashes(requirements.requirements, wheels.listing);

  const building = build({ paths, key, interpreter, requirementsFile: source.file, requirements, appWheel, appDir, dist, wheels, log, cancel: options.cancel });
  inFlight.set(id, building);
  try {
    const envDir = await building;
    await linkEnvironment(appDir, envDir);
    return { key, envDir, reused: false };
  } finally {
    inFlight.delete(id);
  }
}

async function build(options: {
  paths: HomePaths;
  key: string;
  interpreter: Interpreter;
  requirementsFile: string;
  requirements: ParsedRequirements;
  appWheel: (BundleWheel & { path: string }) | undefined;
  appDir: string;
  dist: string;
  wheels: FindLinks;
  log: (line: string) => void;
  cancel: AbortSignal | undefined;
}): Promise<string> {
  const { paths, key, interpreter, wheels, log } = options;
  const removed = await removeStale(paths.envs);
  if (removed.length > 0) log(`python environment: removed unfinished builds ${removed.join(", ")}`);
  const dir = startBuild(paths.envs, key);
  log(`python environment ${key}: building with ${interpreter.executable} (Python ${interpreter.version}) from ${wheels.label}`);
  try {
    await buildEnvironment({
      dir,
      key,
      interpreter,
      requirementsFile: options.requirementsFile,
      requirementsFiles: options.requirements.files.map((file) => file.name),
      ...(options.appWheel ? { appWheel: relative(options.appDir, options.appWheel.path) } : {}),
      appDir: options.appDir,
      dist: options.dist,
      findLinks: wheels.dirs,
      label: wheels.label,
      requireHashes: usesHashes(options.requirements.requirements),
      listing: wheels.listing,
      log,
      cancel: options.cancel,
    });
    const envDir = await publish(paths.envs, key, dir);
    log(`python environment ${key}: built`);
    return envDir;
  } finally {
    endBuild(dir);
  }
}

/** What an instance's processes get: the environment's bin first in PATH, VIRTUAL_ENV set. */
export function environmentVariables(envDir: string, basePath: string = process.env.PATH ?? ""): { PATH: string; VIRTUAL_ENV: string } {
  const bin = join(envDir, "bin");
  const rest = basePath.split(delimiter).filter((entry) => entry !== "" && entry !== bin);
  return { PATH: [bin, ...rest].join(delimiter), VIRTUAL_ENV: envDir };
}

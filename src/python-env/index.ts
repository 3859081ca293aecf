/**
 * Python environments: one immutable virtualenv per key
 * under var/envs/, built offline from dist/ only, linked from each instance as `.venv`.
 */
import { mkdir, stat } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { buildEnvironment } from "./build.js";
import { findMissing, listDist, type DistListing } from "./dist.js";
import { resolveInterpreter, type Interpreter } from "./interpreter.js";
import { environmentKey } from "./key.js";
import { missingItems, notInDistError, requirementsProblemError } from "./messages.js";
import { readRequirements, type ParsedRequirements } from "./requirements.js";
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
}

export interface PreparedEnvironment {
  key: string;
  /** `var/envs/<key>`: what `.venv` links to and VIRTUAL_ENV names. */
  envDir: string;
  reused: boolean;
}

/**
 * Builds or reuses the environment for `<appDir>/requirements.txt` and links `<appDir>/.venv` to
 * it. Null when the app has no requirements.txt (no environment). Throws SargeError naming every
 * requirement dist cannot satisfy, or what pip could not install.
 */
export async function prepareEnvironment(options: PrepareOptions): Promise<PreparedEnvironment | null> {
  const { paths, appDir, log } = options;
  const dist = resolve(options.dist);
  const requirementsFile = join(appDir, "requirements.txt");
  const found = await stat(requirementsFile).catch(() => null);
  if (!found?.isFile()) return null;

  await mkdir(paths.envs, { recursive: true });
  const [requirements, listing, interpreter] = await Promise.all([
    readRequirements(requirementsFile, appDir),
    listDist(dist),
    resolveInterpreter(options.python, paths),
  ]);
  if (requirements.problems.length > 0) throw requirementsProblemError(requirements.problems, dist);

  const key = environmentKey({ interpreter, requirements: requirements.files, dist, distFiles: listing.files });
  const existing = await findEnvironment(paths.envs, key);
  if (existing) {
    await linkEnvironment(appDir, existing);
    log(`python environment ${key}: reused (requirements, Python ${interpreter.version} and dist unchanged)`);
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

  const missing = findMissing(requirements.requirements, listing);
  if (missing.length > 0) throw notInDistError(missingItems(missing), dist);

  const building = build({ paths, key, interpreter, requirementsFile, requirements, appDir, dist, listing, log });
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
  appDir: string;
  dist: string;
  listing: DistListing;
  log: (line: string) => void;
}): Promise<string> {
  const { paths, key, interpreter, dist, log } = options;
  const removed = await removeStale(paths.envs);
  if (removed.length > 0) log(`python environment: removed unfinished builds ${removed.join(", ")}`);
  const dir = startBuild(paths.envs, key);
  log(`python environment ${key}: building with ${interpreter.executable} (Python ${interpreter.version}) from ${dist}`);
  try {
    await buildEnvironment({
      dir,
      key,
      interpreter,
      requirementsFile: options.requirementsFile,
      requirementsFiles: options.requirements.files.map((file) => file.name),
      appDir: options.appDir,
      dist,
      listing: options.listing,
      log,
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

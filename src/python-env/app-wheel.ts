/**
 * A pyproject.toml app's own package: built offline into `.sarge/app-wheel/` of the instance
 * (build-wheel.ts: the interpreter's backend, else the backend's wheel from dist or the bundle)
 * and installed into the environment with its dependencies. SOURCE_DATE_EPOCH is the time of
 * pyproject.toml (the commit's, as the archive gives it), so a backend that honours it builds the
 * same bytes for the same commit and the environment is reused.
 */
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { buildWheelOffline } from "./build-wheel.js";
import { fileHash } from "./hashes.js";
import type { Interpreter } from "./interpreter.js";
import type { BundleWheel } from "./key.js";
import type { PyprojectProject } from "./pyproject.js";
import { SARGE_DIR } from "./source.js";

export const APP_WHEEL_DIR = `${SARGE_DIR}/app-wheel`;

export type AppWheel =
  | { installed: BundleWheel & { path: string } }
  /** Why the app's package is not installed; `warn` when the user should act on it. */
  | { notInstalled: string; warn: boolean };

export async function buildAppWheel(options: {
  appDir: string;
  project: PyprojectProject;
  interpreter: Interpreter;
  findLinks: string[];
  label: string;
  log: (line: string) => void;
  cancel?: AbortSignal;
}): Promise<AppWheel> {
  const { project, interpreter } = options;
  if (project.backend === null) {
    return { notInstalled: "pyproject.toml declares no [build-system] build-backend: the app's own package is not installed, only its dependencies (its modules import from the app folder, the working directory)", warn: false };
  }
  const outDir = join(options.appDir, APP_WHEEL_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const epoch = Math.floor((await stat(join(options.appDir, "pyproject.toml"))).mtimeMs / 1000);
  options.log(`python environment: building the app's own wheel with ${project.backend}, offline`);
  const built = await buildWheelOffline({
    interpreter,
    target: options.appDir,
    findLinks: options.findLinks,
    outDir,
    cwd: options.appDir,
    log: options.log,
    env: { SOURCE_DATE_EPOCH: String(epoch) },
    cancel: options.cancel,
  });
  if ("attempts" in built || built.files.length !== 1) {
    const why = "attempts" in built ? built.attempts.join("; ") : `pip wrote ${built.files.length} wheels`;
    return {
      notInstalled: `the app's own package${project.name ? ` (${project.name})` : ""} is not installed, only its dependencies: its build backend ${project.backend} cannot build it offline — it must be importable by ${interpreter.executable} or its wheel be in ${options.label} (${why})`,
      warn: true,
    };
  }
  const path = join(outDir, built.files[0]!);
  return { installed: { file: built.files[0]!, path, sha256: await fileHash(path) } };
}

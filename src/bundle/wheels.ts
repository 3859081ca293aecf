/**
 * Which wheels a bundle needs. A hashed lock (every line pinned with --hash, as pip's hash mode
 * requires, or a converted pylock.toml) is already resolved: its files are the ones whose hashes
 * it lists, for every platform the folder holds. Otherwise pip resolves the requirements against
 * the wheels folder alone (`pip install --dry-run --ignore-installed --report`, offline and
 * isolated like deploys). Before either, sarge's own checks name every missing direct
 * requirement and every hash mismatch.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { childEnvironment } from "../python-env/child-env.js";
import { findMissing, listDist } from "../python-env/dist.js";
import { checkFileHashes, checkHashCoverage, usesHashes } from "../python-env/hashes.js";
import { missingItems, notInDistError, pipFailureError, requirementsProblemError } from "../python-env/messages.js";
import { readRequirements } from "../python-env/requirements.js";
import { findInstallSource, SARGE_DIR } from "../python-env/source.js";
import { SargeError } from "../util/errors.js";

export interface NeededWheels {
  /** Absolute paths in the wheels folder, sorted by file name. */
  files: string[];
  /** The requirements file the bundle installs, relative to `.sarge/` ("../requirements.txt"). */
  installFrom: string;
  /** Files sarge wrote under the tree's .sarge/ (a converted pylock.toml), relative to the tree. */
  derived: string[];
  warning: string | null;
}

interface PipReport {
  install?: Array<{ download_info?: { url?: string } }>;
}

/** `tree`: the unpacked `git archive`. Throws SargeError naming what the wheels folder lacks. */
export async function neededWheels(tree: string, wheelsDir: string, python: string): Promise<NeededWheels> {
  const listing = await listDist(wheelsDir);
  const names = new Set(listing.files.map((entry) => entry.file));
  const source = await findInstallSource(tree, (file) => names.has(file));
  const derived = source && source.file.startsWith(join(tree, SARGE_DIR)) ? [relative(tree, source.file)] : [];
  if (source === null) return { files: [], installFrom: "", derived, warning: null };

  const requirements = await readRequirements(source.file, tree);
  if (requirements.problems.length > 0) throw requirementsProblemError(requirements.problems, wheelsDir);
  checkHashCoverage(requirements.requirements);
  const missing = findMissing(requirements.requirements, listing);
  if (missing.length > 0) throw notInDistError(missingItems(missing), wheelsDir);
  const hashed = await checkFileHashes(requirements.requirements, listing);
  const installFrom = relative(join(tree, SARGE_DIR), source.file);
  if (usesHashes(requirements.requirements)) return { files: sortedUnique(hashed), installFrom, derived, warning: source.warning };

  const work = await mkdtemp(join(tmpdir(), "sarge-bundle-report-"));
  try {
    const report = join(work, "report.json");
    const args = [
      "-I", "-m", "pip", "install", "--isolated", "--no-index", "--find-links", wheelsDir,
      "--dry-run", "--ignore-installed", "--report", report, "--quiet",
      "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "-r", source.file,
    ];
    await promisify(execFile)(python, args, { cwd: tree, env: childEnvironment({ pip: true }), maxBuffer: 64 * 1024 * 1024 }).catch(
      (error: { code?: number | string; stdout?: string; stderr?: string }) => {
        if (error.code === "ENOENT") throw new SargeError(`cannot run ${python} to resolve the requirements: not found (give --python)`);
        throw pipFailureError(`${error.stdout ?? ""}\n${error.stderr ?? ""}`, typeof error.code === "number" ? error.code : undefined, {
          dist: wheelsDir,
          listing,
          pythonVersion: "of this machine",
        });
      },
    );
    const parsed = JSON.parse(await readFile(report, "utf8")) as PipReport;
    const files = (parsed.install ?? []).map((item) => fileURLToPath(item.download_info?.url ?? "file:///"));
    const outside = files.filter((file) => relative(wheelsDir, file).startsWith(".."));
    if (outside.length > 0) throw new SargeError(`pip resolved files outside ${wheelsDir}: ${outside.join(", ")}`);
    return { files: sortedUnique(files), installFrom, derived, warning: source.warning };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function sortedUnique(paths: string[]): string[] {
  return [...new Set(paths)].sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
}

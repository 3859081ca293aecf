/**
 * Which wheels a bundle needs. A hashed lock (every line pinned with --hash, as pip's hash mode
 * requires, or a converted pylock.toml) is already resolved: its files are the ones whose hashes
 * it lists, for every platform the folder holds. Otherwise sarge follows the requirements through
 * the wheels' own Requires-Dist (resolve.ts), offline and without starting pip. Before either,
 * sarge's own checks name every missing direct requirement and every hash mismatch.
 */
import { basename, join, relative } from "node:path";
import { findMissing, listDist } from "../python-env/dist.js";
import { checkFileHashes, checkHashCoverage, usesHashes } from "../python-env/hashes.js";
import { missingItems, notInDistError, requirementsProblemError } from "../python-env/messages.js";
import { findInstallSource, readSourceRequirements, SARGE_DIR } from "../python-env/source.js";
import { wheelClosure } from "./resolve.js";

export interface NeededWheels {
  /** Absolute paths in the wheels folder, sorted by file name. */
  files: string[];
  /** The requirements file the bundle installs, relative to `.sarge/` ("../requirements.txt"). */
  installFrom: string;
  /** Files sarge wrote under the tree's .sarge/ (a converted pylock.toml), relative to the tree. */
  derived: string[];
  warning: string | null;
  /** sha256 of each file, by path, where sarge already computed it (a hashed lock). */
  sha256: Map<string, string>;
}

/** `tree`: the unpacked `git archive`. Throws SargeError naming what the wheels folder lacks. */
export async function neededWheels(tree: string, wheelsDir: string): Promise<NeededWheels> {
  const listing = await listDist(wheelsDir);
  const names = new Set(listing.files.map((entry) => entry.file));
  const source = await findInstallSource(tree, (file) => names.has(file));
  const derived = source && source.file.startsWith(join(tree, SARGE_DIR)) ? [relative(tree, source.file)] : [];
  if (source === null) return { files: [], installFrom: "", derived, warning: null, sha256: new Map() };

  const requirements = await readSourceRequirements(source, tree);
  if (requirements.problems.length > 0) throw requirementsProblemError(requirements.problems, wheelsDir);
  checkHashCoverage(requirements.requirements);
  const missing = findMissing(requirements.requirements, listing);
  if (missing.length > 0) throw notInDistError(missingItems(missing), wheelsDir);
  const installFrom = relative(join(tree, SARGE_DIR), source.file);
  if (usesHashes(requirements.requirements)) {
    const hashed = await checkFileHashes(requirements.requirements, listing);
    return { files: sortedUnique(hashed.map((match) => match.path)), installFrom, derived, warning: source.warning, sha256: new Map(hashed.flatMap((match) => (match.sha256 ? [[match.path, match.sha256] as const] : []))) };
  }
  const files = await wheelClosure(requirements.requirements, listing, wheelsDir);
  return { files, installFrom, derived, warning: source.warning, sha256: new Map() };
}

function sortedUnique(paths: string[]): string[] {
  return [...new Set(paths)].sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
}

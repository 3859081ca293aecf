/** The dist/ folder: what it holds (for the key) and which requirements it can satisfy. */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Requirement } from "./requirements.js";
import { normalizeName, parseVersion, satisfies } from "./versions.js";

export interface DistFile {
  file: string;
  size: number;
  mtimeMs: number;
}

export interface DistPackage {
  file: string;
  /** Absolute: the folder listed, then the file. */
  path: string;
  version: string;
  kind: "wheel" | "sdist";
}

export interface DistListing {
  files: DistFile[];
  /** Normalised project name → the wheels and sdists for it. */
  packages: Map<string, DistPackage[]>;
}

const sdistPattern = /\.(tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar|zip)$/i;

/** Lists dist/ (regular files, sorted by name). A missing folder is an empty dist. */
export async function listDist(dist: string): Promise<DistListing> {
  let names: string[];
  try {
    names = (await readdir(dist)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: [], packages: new Map() };
    throw error;
  }
  const stats = await Promise.all(names.map((name) => stat(join(dist, name)).catch(() => null)));
  const files: DistFile[] = [];
  const packages = new Map<string, DistPackage[]>();
  names.forEach((file, i) => {
    const info = stats[i];
    if (!info?.isFile()) return;
    files.push({ file, size: info.size, mtimeMs: info.mtimeMs });
    const parsed = parseDistFileName(file);
    if (!parsed) return;
    const key = normalizeName(parsed.name);
    const list = packages.get(key) ?? [];
    list.push({ file, path: join(dist, file), version: parsed.version, kind: parsed.kind });
    packages.set(key, list);
  });
  return { files, packages };
}

/** Several folders pip finds links in (dist/, a bundle's wheels) as one listing, in the order given. */
export function mergeListings(listings: DistListing[]): DistListing {
  const packages = new Map<string, DistPackage[]>();
  for (const listing of listings) {
    for (const [key, list] of listing.packages) packages.set(key, [...(packages.get(key) ?? []), ...list]);
  }
  return { files: listings.flatMap((listing) => listing.files), packages };
}

/** "Flask-3.1.0-py3-none-any.whl" → Flask 3.1.0; "python-dateutil-2.9.0.tar.gz" → python-dateutil 2.9.0. */
export function parseDistFileName(file: string): { name: string; version: string; kind: "wheel" | "sdist" } | null {
  if (file.toLowerCase().endsWith(".whl")) {
    const parts = file.slice(0, -4).split("-");
    if (parts.length !== 5 && parts.length !== 6) return null;
    return { name: parts[0]!, version: parts[1]!, kind: "wheel" };
  }
  const ext = sdistPattern.exec(file);
  if (!ext) return null;
  const stem = file.slice(0, ext.index);
  // the version is after the last "-" whose remainder parses as one (names may contain "-")
  for (let i = stem.lastIndexOf("-"); i > 0; i = stem.lastIndexOf("-", i - 1)) {
    const version = stem.slice(i + 1);
    if (parseVersion(version)) return { name: stem.slice(0, i), version, kind: "sdist" };
  }
  return null;
}

export interface MissingRequirement {
  requirement: Requirement;
  /** Versions of that name that dist does hold (none satisfying), empty when the name is absent. */
  available: string[];
}

/**
 * Requirements dist surely cannot satisfy: the name is absent, or no version there matches the
 * specifiers. Constraints and requirements with environment markers are left to pip.
 */
export function findMissing(requirements: Requirement[], listing: DistListing): MissingRequirement[] {
  const missing: MissingRequirement[] = [];
  for (const requirement of requirements) {
    if (requirement.constraint || requirement.marker !== null) continue;
    const candidates = listing.packages.get(requirement.key) ?? [];
    if (candidates.length === 0) {
      missing.push({ requirement, available: [] });
      continue;
    }
    const specifiers = requirement.specifiers;
    if (specifiers === null) continue;
    if (candidates.every((candidate) => satisfies(candidate.version, specifiers) === false)) {
      missing.push({ requirement, available: [...new Set(candidates.map((c) => c.version))] });
    }
  }
  return missing;
}

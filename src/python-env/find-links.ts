/** The folders pip may install from: the home's dist/, and a bundle's `.sarge/wheels/` when the app carries one. */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { listDist, mergeListings, type DistFile, type DistListing } from "./dist.js";
import { fileHash } from "./hashes.js";
import type { BundleWheel } from "./key.js";
import { BUNDLE_SUMS, BUNDLE_WHEELS } from "./source.js";
import { SargeError } from "../util/errors.js";

export interface FindLinks {
  /** dist first, then the bundle's wheels. */
  dirs: string[];
  listing: DistListing;
  /** dist/'s files, by name, size and mtime (for the environment key). */
  distFiles: DistFile[];
  /** The bundle's wheels by content (for the key): an unpacked bundle's mtimes are new each time. */
  bundle: BundleWheel[];
  /** Every file name found, for pylock.toml's "is this wheel here". */
  names: Set<string>;
  /** How messages name the folders: "/h/dist" or "/h/dist or the bundle's .sarge/wheels". */
  label: string;
}

export async function inspectFindLinks(dist: string, appDir: string): Promise<FindLinks> {
  const bundleDir = join(appDir, BUNDLE_WHEELS);
  const hasBundle = (await stat(bundleDir).catch(() => null))?.isDirectory() === true;
  const [distListing, bundleListing] = await Promise.all([listDist(dist), hasBundle ? listDist(bundleDir) : null]);
  const bundle = bundleListing
    ? await Promise.all(bundleListing.files.map(async ({ file }) => ({ file, sha256: await fileHash(join(bundleDir, file)) })))
    : [];
  if (bundleListing) await checkBundleSums(appDir, bundle);
  const listing = bundleListing ? mergeListings([distListing, bundleListing]) : distListing;
  return {
    dirs: bundleListing ? [dist, bundleDir] : [dist],
    listing,
    distFiles: distListing.files,
    bundle,
    names: new Set([...distListing.files, ...(bundleListing?.files ?? [])].map((entry) => entry.file)),
    label: bundleListing ? `${dist} or the bundle's ${BUNDLE_WHEELS}` : dist,
  };
}

/**
 * Every wheel in the bundle is the one `sarge bundle` put there: same name, same sha256. Checked
 * before pip runs, whatever the requirements say; a bundle without the sums file was not made by
 * sarge bundle and is taken as it is.
 */
async function checkBundleSums(appDir: string, wheels: BundleWheel[]): Promise<void> {
  const text = await readFile(join(appDir, BUNDLE_SUMS), "utf8").catch(() => null);
  if (text === null) return;
  const expected = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (m) expected.set(m[2]!, m[1]!);
  }
  const problems: string[] = [];
  for (const wheel of wheels) {
    const sum = expected.get(wheel.file);
    if (sum === undefined) problems.push(`${wheel.file} is not in ${BUNDLE_SUMS} (added after the bundle was made)`);
    else if (sum !== wheel.sha256) problems.push(`${wheel.file}: ${BUNDLE_SUMS} expects sha256:${sum}, found sha256:${wheel.sha256}`);
  }
  const present = new Set(wheels.map((wheel) => wheel.file));
  for (const file of expected.keys()) if (!present.has(file)) problems.push(`${file} is missing from ${BUNDLE_WHEELS}`);
  if (problems.length === 0) return;
  throw new SargeError(`the bundle's wheels are not the ones it was made with, refusing to install: ${problems.join("; ")}`);
}

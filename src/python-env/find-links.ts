/** The folders pip may install from: the home's dist/, and a bundle's `.sarge/wheels/` when the app carries one. */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { listDist, mergeListings, type DistFile, type DistListing } from "./dist.js";
import { fileHash } from "./hashes.js";
import type { BundleWheel } from "./key.js";
import { BUNDLE_WHEELS } from "./source.js";

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

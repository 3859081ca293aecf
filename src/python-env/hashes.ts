/**
 * Hash-pinned requirements (`--hash=sha256:…`, as `pip-compile --generate-hashes` and `uv export`
 * write them): every line must carry hashes, and every pinned file must match one of its line's
 * hashes before pip runs, so the message names the package and both hashes instead of pip's
 * "THESE PACKAGES DO NOT MATCH THE HASHES" block.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { SargeError } from "../util/errors.js";
import type { DistListing, DistPackage } from "./dist.js";
import type { Requirement } from "./requirements.js";
import { satisfies } from "./versions.js";

/** The algorithms pip accepts in --hash. */
const ALGORITHMS = new Set(["sha256", "sha384", "sha512"]);

export async function fileHash(path: string, algorithm = "sha256"): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** True when pip will run in hash-checking mode: some requirement carries a --hash. */
export function usesHashes(requirements: Requirement[]): boolean {
  return requirements.some((requirement) => requirement.hashes.length > 0);
}

/** pip refuses a file where some lines have hashes and others not; say which lines, all at once. */
export function checkHashCoverage(requirements: Requirement[]): void {
  if (!usesHashes(requirements)) return;
  const without = requirements.filter((requirement) => !requirement.constraint && requirement.hashes.length === 0);
  if (without.length === 0) return;
  throw new SargeError(
    `hashes on some requirement lines only: pip's hash-checking mode needs a --hash on every line; these have none: ${without
      .map((requirement) => `${requirement.where} (${requirement.text})`)
      .join(", ")}`,
  );
}

/**
 * A hashed requirement needs a file of its name (a version its specifiers allow) that matches one
 * of the line's hashes; pip prefers the matching one when several are there. Throws naming each
 * requirement with none: the package, the expected hashes and what each file found has.
 * Returns the files that match (what a bundle of a hashed lock carries), with their sha256 when
 * the line had one to compare.
 */
export async function checkFileHashes(requirements: Requirement[], listing: DistListing): Promise<Array<{ path: string; sha256?: string }>> {
  const mismatches: string[] = [];
  const matching: Array<{ path: string; sha256?: string }> = [];
  for (const requirement of requirements) {
    if (requirement.hashes.length === 0) continue;
    const expected = parseHashes(requirement);
    const found: string[] = [];
    let matched = false;
    for (const candidate of candidates(requirement, listing)) {
      const digests = await Promise.all([...expected.keys()].map(async (algorithm) => [algorithm, await fileHash(candidate.path, algorithm)] as const));
      if (digests.some(([algorithm, digest]) => expected.get(algorithm)!.has(digest))) {
        matched = true;
        const sha256 = digests.find(([algorithm]) => algorithm === "sha256")?.[1];
        matching.push(sha256 ? { path: candidate.path, sha256 } : { path: candidate.path });
      }
      found.push(`${digests.map(([algorithm, digest]) => `${algorithm}:${digest}`).join(", ")} (${candidate.path})`);
    }
    if (!matched && found.length > 0) {
      mismatches.push(`${requirement.name} (${requirement.where}) expects ${requirement.hashes.join(" or ")}, found ${found.join(" and ")}`);
    }
  }
  if (mismatches.length === 0) return matching;
  const [first, ...rest] = mismatches;
  throw new SargeError(
    `hash mismatch, refusing to install: ${first}${rest.length > 0 ? ` (and ${rest.length} more)` : ""} — the file is not the one the requirements were locked with`,
    rest.length > 0 ? { detail: rest.join("\n") } : {},
  );
}

function parseHashes(requirement: Requirement): Map<string, Set<string>> {
  const byAlgorithm = new Map<string, Set<string>>();
  for (const text of requirement.hashes) {
    const [algorithm, digest] = text.split(":", 2);
    if (!algorithm || !digest || !ALGORITHMS.has(algorithm)) {
      throw new SargeError(`${requirement.where}: --hash=${text} is not <algorithm>:<hex digest> with sha256, sha384 or sha512`);
    }
    byAlgorithm.set(algorithm, (byAlgorithm.get(algorithm) ?? new Set()).add(digest.toLowerCase()));
  }
  return byAlgorithm;
}

function candidates(requirement: Requirement, listing: DistListing): DistPackage[] {
  const specifiers = requirement.specifiers;
  return (listing.packages.get(requirement.key) ?? []).filter(
    (candidate) => specifiers === null || satisfies(candidate.version, specifiers) !== false,
  );
}

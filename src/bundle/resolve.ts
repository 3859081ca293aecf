/**
 * The wheels a bundle needs, without pip: every wheel in the folder whose version the
 * requirement (and any -c constraint) allows, then the same for each of their Requires-Dist,
 * read from the wheels themselves. A superset of what pip picks on one machine (all the
 * versions and platforms that fit), which is what a bundle for another machine should carry.
 * The `extra` part of markers is decided here; a requirement behind any other marker is
 * carried when its wheel is there and left to the server's pip when not.
 */
import { basename } from "node:path";
import type { DistListing, DistPackage } from "../python-env/dist.js";
import { evaluateMarker, MarkerError } from "../python-env/markers.js";
import { notInDistError, type MissingItem } from "../python-env/messages.js";
import { parseRequirement, type Requirement } from "../python-env/requirements.js";
import { satisfies, type Specifier } from "../python-env/versions.js";
import { wheelRequiresDist } from "../python-env/wheel-metadata.js";

type Wanted = Pick<Requirement, "text" | "name" | "key" | "extras" | "specifiers" | "marker">;

/** Absolute paths, sorted by file name. Throws SargeError naming every wheel the folder lacks. */
export async function wheelClosure(requirements: Requirement[], listing: DistListing, wheelsDir: string): Promise<string[]> {
  const constraints = new Map<string, Specifier[][]>();
  for (const requirement of requirements.filter((r) => r.constraint && r.specifiers !== null)) {
    constraints.set(requirement.key, [...(constraints.get(requirement.key) ?? []), requirement.specifiers!]);
  }
  const chosen = new Set<string>();
  const visited = new Set<string>();
  const missing: MissingItem[] = [];
  const fits = (candidate: DistPackage, wanted: Wanted) =>
    candidate.kind === "wheel" &&
    [wanted.specifiers, ...(constraints.get(wanted.key) ?? [])].every((specifiers) => specifiers === null || satisfies(candidate.version, specifiers) !== false);

  const visit = async (wanted: Wanted, parentExtras: string[], requiredBy: string | undefined): Promise<void> => {
    const applies = wanted.marker === null ? true : markerOutcome(wanted.marker, parentExtras);
    if (applies === false) return;
    const all = listing.packages.get(wanted.key) ?? [];
    const wheels = all.filter((candidate) => fits(candidate, wanted));
    if (wheels.length === 0) {
      const available = [...new Set(all.map((candidate) => candidate.version))];
      if (applies === true) missing.push({ requirement: wanted.text, ...(requiredBy ? { requiredBy } : {}), ...(available.length > 0 ? { available } : {}) });
      return;
    }
    for (const wheel of wheels) {
      chosen.add(wheel.path);
      const id = `${wheel.path}\0${[...wanted.extras].sort().join(",")}`;
      if (visited.has(id)) continue;
      visited.add(id);
      for (const text of await wheelRequiresDist(wheel.path)) {
        const dependency = parseRequirement(text);
        if (dependency === null || dependency === "reference") continue;
        await visit({ ...dependency, text: text.split(";")[0]!.trim() }, wanted.extras, wanted.name);
      }
    }
  };
  for (const requirement of requirements.filter((r) => !r.constraint)) await visit(requirement, [], undefined);
  if (missing.length > 0) throw notInDistError(missing, wheelsDir);
  return [...chosen].sort((a, b) => (basename(a) < basename(b) ? -1 : basename(a) > basename(b) ? 1 : 0));
}

/** A direct requirement has no extras of its own to evaluate against: `extra == …` is false there. */
function markerOutcome(marker: string, extras: string[]): boolean | string {
  try {
    return evaluateMarker(marker, { extras: new Set(extras), dependencyGroups: new Set() });
  } catch (error) {
    // a marker sarge cannot read is the server pip's to judge
    if (error instanceof MarkerError) return marker;
    throw error;
  }
}

/** The one-sentence errors users get for Python environments, before pip and from pip's output. */
import { SargeError } from "../util/errors.js";
import type { DistListing, MissingRequirement } from "./dist.js";
import { normalizeName } from "./versions.js";

export interface MissingItem {
  requirement: string;
  requiredBy?: string;
  /** Versions of that name in dist (none suitable). */
  available?: string[];
  /** Set when dist holds files of that name that pip found unusable here (tags, Requires-Python). */
  unusable?: string[];
}

function describe(item: MissingItem): string {
  const notes: string[] = [];
  if (item.requiredBy) notes.push(`required by ${item.requiredBy}`);
  if (item.unusable && item.unusable.length > 0) notes.push(`dist has only ${item.unusable.join(", ")}, not usable by this Python`);
  else if (item.available && item.available.length > 0) notes.push(`dist has ${item.available.join(", ")}`);
  return notes.length > 0 ? `${item.requirement} (${notes.join("; ")})` : item.requirement;
}

export function notInDistError(items: MissingItem[], dist: string, detail?: string): SargeError {
  return new SargeError(
    `not in dist: ${items.map(describe).join(", ")} — add the wheels to ${dist} or build them with \`sarge wheel\``,
    detail ? { detail } : {},
  );
}

export function missingItems(missing: MissingRequirement[]): MissingItem[] {
  return missing.map(({ requirement, available }) => ({ requirement: requirement.text, available }));
}

export function requirementsProblemError(problems: string[], dist: string): SargeError {
  const [first, ...rest] = problems;
  return new SargeError(`requirements cannot be installed from ${dist} only: ${first}`, rest.length > 0 ? { detail: rest.join("\n") } : {});
}

/**
 * pip failed: name what it could not find (pip says "No matching distribution found for X",
 * "(from Y)" for a dependency), a wrong Python, or a conflict; else its last ERROR line.
 */
export function pipFailureError(output: string, exitCode: number | undefined, context: { dist: string; listing: DistListing; pythonVersion: string }): SargeError {
  const errorLines = output.split("\n").filter((line) => line.startsWith("ERROR:"));
  const detail = [...errorLines.slice(-8), "(full pip output in sarge's log)"].join("\n");

  const items: MissingItem[] = [];
  const seen = new Set<string>();
  for (const m of output.matchAll(/Could not find a version that satisfies the requirement (.+?)(?: \(from ([^()]+(?:\([^()]*\))?[^()]*)\))? \(from versions: ([^)]*)\)/g)) {
    const requirement = m[1]!.trim();
    if (seen.has(requirement)) continue;
    seen.add(requirement);
    const name = /^[A-Za-z0-9._-]+/.exec(requirement)?.[0] ?? requirement;
    const files = context.listing.packages.get(normalizeName(name)) ?? [];
    const versions = m[3]!.trim() === "none" ? [] : m[3]!.split(",").map((v) => v.trim());
    const item: MissingItem = { requirement };
    const requiredBy = m[2]?.trim();
    if (requiredBy && !requiredBy.startsWith("-r ")) item.requiredBy = requiredBy;
    if (versions.length > 0) item.available = versions;
    else if (files.length > 0) item.unusable = files.map((f) => f.file);
    items.push(item);
  }
  if (items.length > 0) return notInDistError(items, context.dist, detail);

  const wrongPython = /Package '([^']+)' requires a different Python: (\S+) not in '([^']*)'/.exec(output);
  if (wrongPython) {
    return new SargeError(
      `${wrongPython[1]} in dist requires Python ${wrongPython[3]}, but the environment uses Python ${wrongPython[2]} — add a wheel of ${wrongPython[1]} that supports it to ${context.dist}, or change python in etc/sarge.yaml`,
      { detail },
    );
  }

  const conflict = /The conflict is caused by:\n((?:[ \t]+.+\n?)+)/.exec(output);
  if (conflict) {
    const causes = conflict[1]!.split("\n").map((line) => line.trim()).filter(Boolean);
    return new SargeError(`the requirements conflict with each other or with what dist holds: ${causes.join("; ")}`, { detail });
  }

  const last = errorLines.at(-1)?.replace(/^ERROR:\s*/, "") ?? `pip exited with code ${exitCode ?? "?"}`;
  return new SargeError(`pip could not install the requirements from ${context.dist}: ${last}`, { detail });
}

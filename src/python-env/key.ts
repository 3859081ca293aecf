/** The environment key: what an environment's content depends on, hashed (docs/architecture.md). */
import { createHash } from "node:crypto";
import type { DistFile } from "./dist.js";
import type { Interpreter } from "./interpreter.js";
import type { RequirementsFile } from "./requirements.js";

/** Bump when the way environments are built changes, so old ones are not reused. */
const RECIPE = "sarge-env-1";

/** A wheel a bundle carries (`.sarge/wheels/`), by content: every unpacked bundle gets new mtimes. */
export interface BundleWheel {
  file: string;
  sha256: string;
}

export function environmentKey(parts: {
  interpreter: Interpreter;
  requirements: RequirementsFile[];
  dist: string;
  distFiles: DistFile[];
  bundleWheels: BundleWheel[];
  /** A pyproject.toml app's own wheel, installed into the environment. */
  appWheel?: BundleWheel;
}): string {
  const hash = createHash("sha256");
  hash.update(`${RECIPE}\0${parts.interpreter.executable}\0${parts.interpreter.full}\0${parts.dist}\0`);
  for (const file of parts.requirements) {
    hash.update(`${file.name}\0${file.bytes.length}\0`);
    hash.update(file.bytes);
  }
  for (const file of parts.distFiles) hash.update(`${file.file}\0${file.size}\0${file.mtimeMs}\n`);
  for (const wheel of parts.bundleWheels) hash.update(`bundle\0${wheel.file}\0${wheel.sha256}\n`);
  if (parts.appWheel) hash.update(`app\0${parts.appWheel.file}\0${parts.appWheel.sha256}\n`);
  return hash.digest("hex").slice(0, 20);
}

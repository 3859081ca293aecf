import { parse } from "smol-toml";
import { SargeError } from "../util/errors.js";

export interface PyprojectProject {
  name: string | null;
  /** [build-system] build-backend; null when pyproject.toml declares none. */
  backend: string | null;
  dependencies: string[];
}

/** [project] with its dependencies, or null when pyproject.toml declares none (a tool's config only). */
export function readPyproject(source: string): PyprojectProject | null {
  let document: { project?: { name?: unknown; dependencies?: unknown }; "build-system"?: { "build-backend"?: unknown } };
  try {
    document = parse(source) as typeof document;
  } catch (error) {
    throw new SargeError(`pyproject.toml is not valid TOML: ${(error as Error).message.split("\n")[0]}`);
  }
  const dependencies = document.project?.dependencies;
  if (dependencies === undefined) return null;
  if (!Array.isArray(dependencies) || dependencies.some((entry) => typeof entry !== "string")) {
    throw new SargeError("pyproject.toml: [project] dependencies must be a list of requirement strings");
  }
  const name = document.project?.name;
  const backend = document["build-system"]?.["build-backend"];
  return { name: typeof name === "string" ? name : null, backend: typeof backend === "string" ? backend : null, dependencies: dependencies as string[] };
}

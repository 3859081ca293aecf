import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { shellQuote } from "../util/shell-quote.js";

/** Why an environment's pip refuses to change it, in one line. */
export const PIP_CHANGES_REFUSED =
  "sarge: this environment is built from requirements.txt and shared by every instance with the same requirements, so pip does not change it here: " +
  "add the package to requirements.txt (its wheel to the home's dist/) and deploy";

/**
 * Environments are made without pip of their own (the host's pip installs
 * into them), so `sarge run web pip list` would find the host's pip and list
 * the host's packages. This `bin/pip` runs the host pip against the
 * environment for what only reads it, and refuses what would change it.
 */
export async function writePipShim(envDir: string, hostPython: string): Promise<void> {
  const script = [
    "#!/bin/sh",
    'case "$1" in',
    `  install|uninstall|download|wheel) echo ${shellQuote(PIP_CHANGES_REFUSED)} >&2; exit 2 ;;`,
    "esac",
    `exec ${shellQuote(hostPython)} -I -m pip --python "$(dirname "$0")/python" --disable-pip-version-check "$@"`,
    "",
  ].join("\n");
  for (const name of ["pip", "pip3"]) await writeFile(join(envDir, "bin", name), script, { mode: 0o755 });
}

import { spawn } from "node:child_process";
import { constants } from "node:os";
import { readEnv, type CommonOptions } from "./project.js";
import { shellQuote } from "../procfile/pyutil.js";

/**
 * `sarge local run <argv...>` (docs/local.md, `run`; the CLI has already removed one
 * leading `--`): the env files are loaded over the
 * OS environment (no PORT, no HONCHO_PROCESS_NAME), the arguments are
 * shell-quoted and joined and run by `/bin/sh -c` in sarge's process group with
 * stdio inherited. SIGINT is ignored from then on so a terminal Ctrl-C reaches
 * only the child. Resolves with the shell's exit status; like honcho, a shell
 * killed by signal N gives 256−N.
 */
export function run(options: CommonOptions, argv: string[]): Promise<number> {
  const dotenv = readEnv(options);
  const command = argv.map(shellQuote).join(" ");
  // Ignored before the child exists (a Ctrl-C right after spawning must not kill sarge) and until sarge
  // exits, not just until the child does: sarge may see the child's exit first and must still report it.
  process.on("SIGINT", () => undefined);
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], {
      env: { ...process.env, ...Object.fromEntries(dotenv) },
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(signal ? 256 - (constants.signals[signal] ?? 0) : (code ?? 0)));
  });
}

import type { Command } from "commander";
import { withContext } from "./context.js";
import { printJson } from "./output.js";
import { parseReleaseNumber } from "./release-number.js";

export function registerActivate(program: Command): void {
  program
    .command("activate")
    .description("switch to a staged release (deploy --stage) with zero downtime, after checking it is ready; a kept release is started and switched to, like a rollback")
    .argument("<release>", "release number (sarge list)")
    .argument("[proc...]", "only these process types of the release (default: every one it has that is not active)")
    .option("--force", "activate even while deploys are locked (sarge lock); the shell user owns the home, so this is an admin's choice")
    .option("--json", "print the result as JSON (fields: release, commit, instances[{id, proc, port}], durationMs, switchMs, activated)")
    .action(async (text: string, procs: string[], options: { json?: boolean; force?: boolean }, command: Command) => {
      const release = parseReleaseNumber(text);
      const { activateRelease } = await import("../release/activate.js");
      const result = await withContext(command, "activate", (ctx) => activateRelease(ctx, release, procs, options.force));
      if (options.json) return printJson(result);
      const instances = result.instances.map((instance) => `${instance.id} (port ${instance.port})`).join(", ");
      process.stdout.write(`activated release ${release} as release ${result.release}: ${instances} in ${(result.durationMs / 1000).toFixed(1)}s\n`);
    });
}

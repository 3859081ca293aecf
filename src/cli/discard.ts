import type { Command } from "commander";
import { withContext } from "./context.js";
import { printJson } from "./output.js";
import { parseReleaseNumber } from "./release-number.js";

export function registerDiscard(program: Command): void {
  program
    .command("discard")
    .description("stop and remove a staged release's instances (never an active one)")
    .argument("<release>", "release number (sarge list)")
    .option("--json", "print the result as JSON (fields: release, instances)")
    .action(async (text: string, options: { json?: boolean }, command: Command) => {
      const release = parseReleaseNumber(text);
      const { discardRelease } = await import("../release/discard.js");
      const result = await withContext(command, "discard", (ctx) => discardRelease(ctx, release));
      if (options.json) return printJson(result);
      process.stdout.write(`discarded release ${release}: ${result.instances.join(", ")}\n`);
    });
}

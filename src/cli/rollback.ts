import type { Command } from "commander";
import { withContext } from "./context.js";
import { printJson } from "./output.js";

export function registerRollback(program: Command): void {
  program
    .command("rollback")
    .description("make a kept instance of a process type active again, with the same zero-downtime switch")
    .argument("<proc>", "process type")
    .option("--to <instance>", "the kept instance to go back to (default: the one active before the current one)")
    .option("--json", "print the result as JSON (fields: release, proc, from, to, switchMs, durationMs)")
    .action(async (proc: string, options: { to?: string; json?: boolean }, command: Command) => {
      const [{ rollback }, { cancelOnSignals }] = await Promise.all([import("../release/rollback.js"), import("../release/cancel.js")]);
      const result = await withContext(command, "rollback", (ctx) => cancelOnSignals(ctx, () => rollback(ctx, proc, options.to)));
      if (options.json) return printJson(result);
      process.stdout.write(`rolled ${proc} back: ${result.from ?? "nothing"} -> ${result.to} (release ${result.release})\n`);
    });
}

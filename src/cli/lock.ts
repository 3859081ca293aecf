import type { Command } from "commander";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";

/** `sarge lock "reason"` and `sarge unlock`: the deploy freeze (home/deploy-freeze.ts). */
export function registerLock(program: Command): void {
  program
    .command("lock")
    .description("lock deploys with a reason: every deploy (CLI, API, webhook) is refused until sarge unlock, unless forced; rollback and config changes stay allowed")
    .argument("<reason>", "why, shown to whoever tries to deploy")
    .option("--json", "print the lock as JSON (fields: reason, who, since)")
    .action(async (reason: string, options: { json?: boolean }, command: Command) => {
      const { describeFreeze, freezeDeploys } = await import("../home/deploy-freeze.js");
      const freeze = freezeDeploys(resolveHome(command), reason);
      if (options.json) return printJson(freeze);
      process.stdout.write(`deploys ${describeFreeze(freeze)}\n`);
    });

  program
    .command("unlock")
    .description("lift the deploy lock placed by sarge lock")
    .action(async (_options: object, command: Command) => {
      const { describeFreeze, unfreezeDeploys } = await import("../home/deploy-freeze.js");
      const lifted = unfreezeDeploys(resolveHome(command));
      process.stdout.write(lifted ? `unlocked deploys (were ${describeFreeze(lifted)})\n` : "deploys were not locked\n");
    });
}

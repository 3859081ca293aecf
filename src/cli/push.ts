import type { Command } from "commander";
import { TARGET_FORMAT } from "../push/target-format.js";

export function registerPush(program: Command): void {
  program
    .command("push")
    .description(
      "from a git checkout: git archive HEAD | ssh <host> <home>/bin/sarge deploy - <proc...>, with the deploy's output streamed back and its exit code passed through",
    )
    .argument("[target]", `${TARGET_FORMAT} (default: SARGE_TARGET from .env, else from the environment); a first argument without a colon is a process type`)
    .argument("[proc...]", "process types to deploy (default: web)")
    .option("--dirty", "deploy the working tree as it is (changed and untracked files, not ignored ones) instead of refusing uncommitted changes; no commit id is recorded")
    .option("--ssh <command>", 'ssh command the arguments are appended to, run by /bin/sh (default: SARGE_SSH from .env or the environment, else "ssh")')
    .option("-e, --env <file>", "env file to read SARGE_TARGET and SARGE_SSH from", ".env")
    .option("-n, --dry-run", "check the checkout and print the commands, deploy nothing")
    .action(async (first: string | undefined, rest: string[], options: { dirty?: boolean; ssh?: string; env: string; dryRun?: boolean }) => {
      // Targets always hold a colon and process types never do.
      const { push } = await import("../push/push.js");
      const [target, procs] = first === undefined ? [undefined, rest] : first.includes(":") ? [first, rest] : [undefined, [first, ...rest]];
      process.exitCode = await push({ target, procs, dirty: options.dirty, ssh: options.ssh, envFile: options.env, dryRun: options.dryRun });
    });
}

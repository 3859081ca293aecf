import type { Command } from "commander";
import { resolveHome } from "./context.js";

export function registerSupervisord(program: Command): void {
  program
    .command("supervisord")
    .description("run the home's supervisor in the foreground, the backend etc/sarge.yaml names (what bin/supervisord runs)")
    .option("--exec-command", "prepare the supervisord backend and print the command to exec in place of sarge, shell-quoted (nothing for the builtin backend)")
    .action(async (options: { execCommand?: boolean }, command: Command) => {
      const { loadConfig } = await import("../home/config.js");
      const { prepareSupervisor, runSupervisorForeground } = await import("../supervise/foreground.js");
      const paths = resolveHome(command);
      const kind = loadConfig(paths).supervisor;
      if (!options.execCommand) {
        process.exitCode = await runSupervisorForeground(paths, kind);
        return;
      }
      const { shellQuote } = await import("../util/shell-quote.js");
      const words = await prepareSupervisor(paths, kind);
      if (words) process.stdout.write(words.map(shellQuote).join(" ") + "\n");
    });
}

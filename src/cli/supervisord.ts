import type { Command } from "commander";
import { resolveHome } from "./context.js";

export function registerSupervisord(program: Command): void {
  program
    .command("supervisord")
    .description("run the home's supervisor in the foreground, the backend etc/sarge.yaml names (what bin/supervisord runs)")
    .action(async (_options: unknown, command: Command) => {
      const { loadConfig } = await import("../home/config.js");
      const { runSupervisorForeground } = await import("../supervise/foreground.js");
      const paths = resolveHome(command);
      process.exitCode = await runSupervisorForeground(paths, loadConfig(paths).supervisor);
    });
}

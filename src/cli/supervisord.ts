import type { Command } from "commander";
import { loadConfig } from "../home/config.js";
import { runSupervisorForeground } from "../supervise/foreground.js";
import { resolveHome } from "./context.js";

export function registerSupervisord(program: Command): void {
  program
    .command("supervisord")
    .description("run the home's supervisor in the foreground, the backend etc/sarge.yaml names (what bin/supervisord runs)")
    .action(async (_options: unknown, command: Command) => {
      const paths = resolveHome(command);
      process.exitCode = await runSupervisorForeground(paths, loadConfig(paths).supervisor);
    });
}

import type { Command } from "commander";
import { runDaemon } from "../supervise/builtin/daemon.js";
import { resolveHome } from "./context.js";

export function registerSupervisord(program: Command): void {
  program
    .command("supervisord")
    .description("run the builtin supervisor daemon for the home in the foreground (what bin/supervisord runs)")
    .action(async (_options: unknown, command: Command) => {
      await runDaemon(resolveHome(command));
    });
}

import type { Command } from "commander";
import { resolveHome } from "./context.js";

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("bash in an instance's folder with its environment; no command = interactive")
    .argument("<target>", "instance id, or process type (its active instance)")
    .argument("[command...]", "one argument: a shell command line; several: words passed verbatim")
    .passThroughOptions()
    .action(async (target: string, words: string[], _options: object, command: Command) => {
      const { openHome } = await import("../home/open.js");
      const { runInInstance } = await import("../instance/run.js");
      process.exitCode = await runInInstance(openHome(resolveHome(command), "run"), target, words);
    });
}

import { Command, CommanderError } from "commander";
import { reportError } from "./output.js";
import { registerCommands } from "./commands.js";

export function buildProgram(): Command {
  const program = new Command("sarge")
    .description("zero-downtime deploys of Procfile apps onto one server")
    .option("--home <dir>", "the sarge home (default: $SARGE_HOME, else the folder above bin/sarge)")
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.exitCode = reportError(error);
  }
}

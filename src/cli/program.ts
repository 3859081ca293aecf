import { Command, CommanderError } from "commander";
import { reportError } from "./output.js";

/** sarge's program with its own options and no command yet. */
export function newProgram(): Command {
  return new Command("sarge")
    .description("zero-downtime deploys of Procfile apps onto one server")
    .option("--home <dir>", "the sarge home (default: $SARGE_HOME, else the folder above bin/sarge)")
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
}

/** Build the program and run argv through it, turning any failure into a message and an exit code. */
export async function runProgram(build: () => Command | Promise<Command>, argv: string[]): Promise<void> {
  try {
    await (await build()).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.exitCode = reportError(error);
  }
}

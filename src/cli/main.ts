import { Command, CommanderError } from "commander";
import { reportError } from "./output.js";
import { registerCommands } from "./commands.js";

/** The program with every command, or only `commandName`'s when given (a run needs only its own). */
export async function buildProgram(commandName?: string): Promise<Command> {
  const program = new Command("sarge")
    .description("zero-downtime deploys of Procfile apps onto one server")
    .option("--home <dir>", "the sarge home (default: $SARGE_HOME, else the folder above bin/sarge)")
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  await registerCommands(program, commandName);
  return program;
}

/** The command a run names: the first operand after the program's own options (only --home takes a value). */
export function commandNameOf(argv: string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--home") i++;
    else if (!arg.startsWith("-")) return arg;
    else if (!arg.startsWith("--home=")) return undefined;
  }
  return undefined;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(commandNameOf(argv));
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.exitCode = reportError(error);
  }
}

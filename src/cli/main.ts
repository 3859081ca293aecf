import type { Command } from "commander";
import { commandNameOf } from "./command-name.js";
import { registerCommands } from "./commands.js";
import { newProgram, runProgram } from "./program.js";

/** The program with every command, or only `commandName`'s when given (a run needs only its own). */
export async function buildProgram(commandName?: string): Promise<Command> {
  const program = newProgram();
  await registerCommands(program, commandName);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await runProgram(() => buildProgram(commandNameOf(argv)), argv);
}

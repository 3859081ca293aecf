import type { Command } from "commander";

/** One register function per command group (src/cli/<group>.ts), in --help order. */
const groups: Array<(program: Command) => void> = [];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}

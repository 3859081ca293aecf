import type { Command } from "commander";
import { registerInit } from "./init.js";

/** One register function per command group (src/cli/<group>.ts), in --help order. */
const groups: Array<(program: Command) => void> = [registerInit];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}

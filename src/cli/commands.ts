import type { Command } from "commander";
import { registerConfig } from "./config.js";
import { registerDeploy } from "./deploy.js";
import { registerInit } from "./init.js";
import { registerInstances } from "./instances.js";
import { register as registerLocal } from "./local.js";
import { registerPush } from "./push.js";
import { registerRun } from "./run.js";
import { registerSupervisord } from "./supervisord.js";
import { registerWheel } from "./wheel.js";

/** One register function per command group (src/cli/<group>.ts), in --help order. */
const groups: Array<(program: Command) => void> = [registerDeploy, registerInstances, registerRun, registerConfig, registerWheel, registerInit, registerSupervisord, registerLocal, registerPush];

export function registerCommands(program: Command): void {
  for (const register of groups) register(program);
}

import type { Command } from "commander";
import { registerActivate } from "./activate.js";
import { registerBundle } from "./bundle.js";
import { registerConfig } from "./config.js";
import { registerDeploy } from "./deploy.js";
import { registerDiscard } from "./discard.js";
import { registerHistory } from "./history.js";
import { registerHold } from "./hold.js";
import { registerInit } from "./init.js";
import { registerLifecycle } from "./lifecycle.js";
import { registerList } from "./list.js";
import { registerLock } from "./lock.js";
import { register as registerLocal } from "./local.js";
import { registerLogs } from "./logs.js";
import { registerPush } from "./push.js";
import { registerRollback } from "./rollback.js";
import { registerRun } from "./run.js";
import { registerServe } from "./serve.js";
import { registerStatus } from "./status.js";
import { registerSupervisord } from "./supervisord.js";
import { registerToken } from "./token.js";
import { registerUpgrade } from "./upgrade.js";
import { registerVerify } from "./verify.js";
import { registerVersion } from "./version.js";
import { registerWheel } from "./wheel.js";

/** One register function per command (src/cli/<command>.ts), in --help order. */
const commands: Array<(program: Command) => void> = [
  registerDeploy,
  registerActivate,
  registerDiscard,
  registerRollback,
  registerLock,
  registerHistory,
  registerList,
  registerStatus,
  registerVerify,
  registerLifecycle,
  registerRun,
  registerLogs,
  registerConfig,
  registerWheel,
  registerInit,
  registerSupervisord,
  registerLocal,
  registerPush,
  registerHold,
  registerServe,
  registerToken,
  registerBundle,
  registerUpgrade,
  registerVersion,
];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}

import type { Command } from "commander";

type Register = (program: Command) => void;

/**
 * One entry per src/cli/<command>.ts, in --help order: the command names it
 * registers, and its register function, imported only when needed so that a
 * command loads its own module and not the others (the CLI start-up cost).
 */
const commands: Array<{ names: string[]; load: () => Promise<Register> }> = [
  { names: ["deploy"], load: async () => (await import("./deploy.js")).registerDeploy },
  { names: ["activate"], load: async () => (await import("./activate.js")).registerActivate },
  { names: ["discard"], load: async () => (await import("./discard.js")).registerDiscard },
  { names: ["rollback"], load: async () => (await import("./rollback.js")).registerRollback },
  { names: ["lock", "unlock"], load: async () => (await import("./lock.js")).registerLock },
  { names: ["history"], load: async () => (await import("./history.js")).registerHistory },
  { names: ["list"], load: async () => (await import("./list.js")).registerList },
  { names: ["status"], load: async () => (await import("./status.js")).registerStatus },
  { names: ["verify"], load: async () => (await import("./verify.js")).registerVerify },
  { names: ["start", "stop", "restart", "destroy"], load: async () => (await import("./lifecycle.js")).registerLifecycle },
  { names: ["run"], load: async () => (await import("./run.js")).registerRun },
  { names: ["logs"], load: async () => (await import("./logs.js")).registerLogs },
  { names: ["config"], load: async () => (await import("./config.js")).registerConfig },
  { names: ["wheel"], load: async () => (await import("./wheel.js")).registerWheel },
  { names: ["init"], load: async () => (await import("./init.js")).registerInit },
  { names: ["supervisord"], load: async () => (await import("./supervisord.js")).registerSupervisord },
  { names: ["local"], load: async () => (await import("./local.js")).register },
  { names: ["push"], load: async () => (await import("./push.js")).registerPush },
  { names: ["hold"], load: async () => (await import("./hold.js")).registerHold },
  { names: ["serve"], load: async () => (await import("./serve.js")).registerServe },
  { names: ["token"], load: async () => (await import("./token.js")).registerToken },
  { names: ["bundle"], load: async () => (await import("./bundle.js")).registerBundle },
  { names: ["export"], load: async () => (await import("./export.js")).registerExport },
  { names: ["upgrade"], load: async () => (await import("./upgrade.js")).registerUpgrade },
  { names: ["version"], load: async () => (await import("./version.js")).registerVersion },
];

/**
 * Register the command named on the command line alone, or every command when
 * none is named or the name is unknown (help, suggestions and errors then see
 * the whole program, as before).
 */
export async function registerCommands(program: Command, commandName?: string): Promise<void> {
  const named = commands.find((entry) => commandName !== undefined && entry.names.includes(commandName));
  const registers = await Promise.all((named ? [named] : commands).map((entry) => entry.load()));
  for (const register of registers) register(program);
}

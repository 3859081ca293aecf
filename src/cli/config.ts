import type { Command } from "commander";
import { SargeError } from "../util/errors.js";
import { resolveHome, withContext } from "./context.js";
import { printJson } from "./output.js";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("the env given to every process (etc/sarge.yaml `env`); changes apply as a zero-downtime release");

  config
    .command("list")
    .description("variable names (values only with --show-values)")
    .option("--show-values", "print the values too (they may be secrets)")
    .option("--json", "print JSON: an object of name -> value (values null unless --show-values)")
    .action(async (options: { showValues?: boolean; json?: boolean }, command: Command) => {
      const env = await configuredEnv(command);
      if (options.json) return printJson(Object.fromEntries(Object.entries(env).map(([key, value]) => [key, options.showValues ? value : null])));
      for (const [key, value] of Object.entries(env)) process.stdout.write(options.showValues ? `${key}=${value}\n` : `${key}\n`);
    });

  config
    .command("get")
    .description("print one variable's value")
    .argument("<key>")
    .action(async (key: string, _options: object, command: Command) => {
      const { assertEnvKey } = await import("../home/config-edit.js");
      assertEnvKey(key);
      const env = await configuredEnv(command);
      if (!(key in env)) throw new SargeError(`${key} is not set`);
      process.stdout.write(`${env[key]}\n`);
    });

  for (const [name, description, argument] of [
    ["set", "set variables and restart every active process type with them, without downtime", "<assignments...>"],
    ["unset", "remove variables and restart every active process type without them, without downtime", "<keys...>"],
  ] as const) {
    config
      .command(name)
      .description(description)
      .argument(argument, name === "set" ? "KEY=VALUE ..." : "KEY ...")
      .option("--no-restart", "only edit etc/sarge.yaml; the next deploy or config change applies it")
      .action(async (words: string[], options: { restart: boolean }, command: Command) => {
        const { parseAssignments } = await import("../home/config-edit.js");
        const { editEnvUnderLock } = await import("../release/config.js");
        const paths = resolveHome(command);
        const change = name === "set" ? { set: parseAssignments(words) } : { unset: words };
        const changed = await editEnvUnderLock(paths, change);
        if (changed.length === 0) return void process.stdout.write("nothing changed\n");
        process.stdout.write(`${name === "set" ? "set" : "unset"} ${changed.join(", ")} in ${paths.config}\n`);
        if (!options.restart) return;
        const { applyConfigRelease } = await import("../release/config.js");
        const result = await withContext(command, "config", (ctx) => applyConfigRelease(ctx, changed));
        const started = result.instances.map((instance) => instance.id).join(", ");
        process.stdout.write(`applied as release ${result.release}: ${started || "nothing is running to restart"}\n`);
      });
  }
}

async function configuredEnv(command: Command): Promise<Record<string, string>> {
  const { loadConfig } = await import("../home/config.js");
  return loadConfig(resolveHome(command)).env;
}

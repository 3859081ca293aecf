import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { EnvChange } from "../home/config-edit.js";
import { ConfigError, SargeError, SupervisorNotRunningError } from "../util/errors.js";
import { resolveHome, withContext } from "./context.js";
import { printJson } from "./output.js";

const appliedLater = "the next deploy or config change applies it";
const noRestart = `only edit etc/sarge.yaml; ${appliedLater}`;

export function registerConfig(program: Command): void {
  const config = program.command("config").description("the env given to every process (etc/sarge.yaml `env`); changes apply as a zero-downtime release");

  config
    .command("list")
    .description("variable names (values only with --show-values)")
    .option("--show-values", "print the values too (they may be secrets)")
    .option("--json", "print JSON: an object of name -> value (values null unless --show-values)")
    .action(async (options: { showValues?: boolean; json?: boolean }, command: Command) => {
      const env = await configuredEnv(command);
      if (options.json) return printJson((await import("../home/env-view.js")).envView(env, options.showValues === true));
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

  config
    .command("set")
    .description("set variables and restart every active process type with them, without downtime")
    .argument("[assignments...]", "KEY=VALUE ... (visible to other users in the process list while sarge runs: pass secrets with --stdin or --from-file)")
    .option("--stdin", "also read KEY=VALUE lines from stdin (blank lines and # comments skipped, each value taken as written to the end of its line)")
    .option("--from-file <file>", "also read KEY=VALUE lines from a file, as --stdin")
    .option("--no-restart", noRestart)
    .action(async (words: string[], options: { stdin?: boolean; fromFile?: string; restart: boolean }, command: Command) => {
      const { mergeAssignments, parseAssignmentLines, parseAssignments } = await import("../home/config-edit.js");
      const set = mergeAssignments(
        parseAssignments(words),
        options.stdin ? parseAssignmentLines(await readStdin(), "stdin") : [],
        options.fromFile === undefined ? [] : parseAssignmentLines(readInputFile(options.fromFile), options.fromFile),
      );
      await changeEnv(command, "set", { set }, options.restart);
    });

  config
    .command("unset")
    .description("remove variables and restart every active process type without them, without downtime")
    .argument("<keys...>", "KEY ...")
    .option("--no-restart", noRestart)
    .action((keys: string[], options: { restart: boolean }, command: Command) => changeEnv(command, "unset", { unset: keys }, options.restart));
}

async function changeEnv(command: Command, verb: "set" | "unset", change: EnvChange, restart: boolean): Promise<void> {
  const [{ applyConfigRelease, editEnvUnderLock }, { cancelOnSignals }] = await Promise.all([import("../release/config.js"), import("../release/cancel.js")]);
  const paths = resolveHome(command);
  const changed = await editEnvUnderLock(paths, change);
  if (changed.length === 0) return void process.stdout.write("nothing changed\n");
  process.stdout.write(`${verb} ${changed.join(", ")} in ${paths.config}\n`);
  if (!restart) return;
  const result = await withContext(command, "config", (ctx) => cancelOnSignals(ctx, () => applyConfigRelease(ctx, changed))).catch((error: unknown) => {
    if (!(error instanceof SupervisorNotRunningError)) throw error;
    throw new SargeError(`the change to ${changed.join(", ")} is saved in ${paths.config} but not applied: ${error.message}; ${appliedLater}`, { exitCode: error.exitCode });
  });
  const started = result.instances.map((instance) => instance.id).join(", ");
  process.stdout.write(`applied as release ${result.release}: ${started || "nothing is running to restart"}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function readInputFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
}

async function configuredEnv(command: Command): Promise<Record<string, string>> {
  const { loadConfig } = await import("../home/config.js");
  return loadConfig(resolveHome(command)).env;
}

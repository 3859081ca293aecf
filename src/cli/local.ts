import { Argument, Command, CommanderError, Option } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SargeError } from "../util/errors.js";
import { packageRoot } from "../util/package-root.js";
import { EXPORT_FORMATS, type ExportFormat } from "../local/export-formats.js";
import { log } from "../local/log.js";
import type { CommonOptions } from "../local/project.js";

/**
 * `sarge local`: honcho-compatible runs of a Procfile (docs/local.md).
 *
 * honcho's command line is `honcho [common] COMMAND [common] [options]`: the
 * common options are accepted before or after the command, and the later one
 * wins. The `local` command takes its arguments verbatim (from the raw argv, so
 * that neither `--` nor anything else is lost to the main program's parse) and
 * parses them with a separate commander program whose options are positional:
 * the common options are defined on it and again on every subcommand, and
 * `run` passes everything after its first operand to the command.
 */

interface RawCommon {
  env?: string;
  appRoot?: string;
  procfile?: string;
  colour?: boolean;
  prefix?: boolean;
  version?: boolean;
}

function addCommonOptions(command: Command): Command {
  return command
    .option("-e, --env <files>", "environment file[,file] (default: .env)")
    .option("-d, --app-root <dir>", "procfile directory (default: .)")
    .option("--no-colour", "disable coloured output")
    .option("--no-prefix", "disable logging prefix")
    .option("-f, --procfile <file>", "procfile path (default: Procfile)")
    .option("-v, --version", "show the version and exit");
}

/** Common options: the subcommand's value if given there, else the one given before it, else the default. */
function commonOptions(sub: Command): CommonOptions {
  const inner = sub.parent!;
  const before = inner.opts<RawCommon>();
  const after = sub.opts<RawCommon>();
  return {
    env: after.env ?? before.env ?? ".env",
    appRoot: after.appRoot ?? before.appRoot ?? ".",
    procfile: after.procfile ?? before.procfile,
    colour: before.colour !== false && after.colour !== false,
    prefix: before.prefix !== false && after.prefix !== false,
  };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
  return `sarge ${pkg.version}`;
}

/** `-v` anywhere prints the version and stops, like argparse's version action. */
function versionRequested(sub: Command): boolean {
  return Boolean(sub.opts<RawCommon>().version || sub.parent?.opts<RawCommon>().version);
}

/** Errors honcho reports through logging: `... [ERROR] message` on stderr, exit 1. */
async function reported(action: () => Promise<number> | number | void): Promise<void> {
  try {
    const code = await action();
    if (typeof code === "number") process.exitCode = code;
  } catch (error) {
    if (!(error instanceof SargeError)) throw error;
    log("ERROR", error.message);
    process.exitCode = error.exitCode;
  }
}

/**
 * The `local` command group as its own commander program (exported for tests and help).
 * Each action imports its runner: registering this must not cost the other commands a load.
 */
export function buildLocalProgram(): Command {
  const local = addCommonOptions(new Command("sarge local"))
    .description("run a Procfile app locally, as honcho does (docs/local.md)")
    .usage("[common options] <command> [common options] [options]")
    .enablePositionalOptions()
    .allowExcessArguments()
    .argument("[command]")
    .helpCommand("help [task]", "describe available tasks or one specific task")
    .exitOverride()
    .action((name: string | undefined, _opts: unknown, self: Command) => {
      if (self.opts<RawCommon>().version) {
        process.stdout.write(version() + "\n");
        return;
      }
      if (name === undefined) self.error("error: missing command", { code: "sarge.local.missingCommand", exitCode: 2 });
      self.error(`error: unknown command '${name}'`, { code: "commander.unknownCommand", exitCode: 2 });
    });

  addCommonOptions(local.command("start"))
    .description("start the application (or a specific PROCESS)")
    .option("-p, --port <N>", "starting port number (default: 5000)")
    .option("-c, --concurrency <process=num,process=num>", "the number of each process type to run")
    .option("-q, --quiet <process1,process2>", "process names for which to suppress output")
    .argument("[processes...]", "process(es) to start (default: all processes)")
    .action(async (processes: string[], opts: { port?: string; concurrency?: string; quiet?: string }, sub: Command) => {
      if (versionRequested(sub)) return void process.stdout.write(version() + "\n");
      const { start } = await import("../local/start.js");
      await reported(() =>
        start({ ...commonOptions(sub), port: opts.port, concurrency: opts.concurrency, quiet: opts.quiet, processes }),
      );
    });

  addCommonOptions(local.command("run"))
    .description("run a command using your application's environment")
    .passThroughOptions()
    .argument("[command...]", "command to run")
    .action(async (argv: string[], _opts: unknown, sub: Command) => {
      if (versionRequested(sub)) return void process.stdout.write(version() + "\n");
      const { run } = await import("../local/run.js");
      await reported(() => run(commonOptions(sub), argv));
    });

  addCommonOptions(local.command("check"))
    .description("validate a Procfile")
    .action(async (_opts: unknown, sub: Command) => {
      if (versionRequested(sub)) return void process.stdout.write(version() + "\n");
      const { check } = await import("../local/check.js");
      await reported(() => check(commonOptions(sub)));
    });

  addCommonOptions(local.command("export"))
    .description("export a Procfile to another format")
    .option("-a, --app <APP>", "alternative app name (default: the current folder's name)")
    .option("-l, --log <DIR>", "directory to place process logs in (default: /var/log/<app>)")
    .option("-p, --port <N>", "starting port number (default: 5000)")
    .option("-c, --concurrency <process=num,process=num>", "number of each process type to run")
    .option("-u, --user <USER>", "user the application should run as (default: the app name)")
    .option("-s, --shell <SHELL>", "the shell that should run the application (default: /bin/sh)")
    .addOption(new Option("-t, --template-dir <DIR>", "directory with custom templates"))
    .addArgument(new Argument("<format>", "format to export to").choices(EXPORT_FORMATS))
    .argument("<location>", "folder to export to")
    .action(async (format: ExportFormat, location: string, opts: Record<string, string | undefined>, sub: Command) => {
      if (versionRequested(sub)) return void process.stdout.write(version() + "\n");
      const { exportProcfile } = await import("../local/export.js");
      await reported(() =>
        exportProcfile({
          ...commonOptions(sub),
          format,
          location,
          app: opts.app,
          log: opts.log,
          port: opts.port,
          concurrency: opts.concurrency,
          user: opts.user,
          shell: opts.shell,
          templateDir: opts.templateDir,
        }),
      );
    });

  local
    .command("version")
    .description("display sarge's version")
    .action(() => void process.stdout.write(version() + "\n"));

  for (const sub of local.commands) sub.exitOverride();
  return local;
}

/**
 * The arguments after `local` exactly as typed. Taken from the raw argv when
 * `local` can be found there (after the main program's own options), because a
 * main program without positional options would drop `--` and take its own
 * options from anywhere; else commander's view of them.
 */
function rawLocalArgs(local: Command): string[] {
  const program = local.parent!;
  const raw = (program as unknown as { rawArgs?: string[] }).rawArgs ?? [];
  const user = raw.slice(2);
  for (let i = 0; i < user.length; i++) {
    const arg = user[i]!;
    if (arg === local.name()) return user.slice(i + 1);
    if (!arg.startsWith("-")) break;
    const option = program.options.find((o) => o.long === arg || o.short === arg);
    if (option && (option.required || option.optional) && !arg.includes("=")) i++;
  }
  return local.args;
}

/** Add the `local` command group to the sarge program. */
export function register(program: Command): void {
  const inner = buildLocalProgram();
  const local = program
    .command("local")
    .description("run the Procfile locally, honcho compatible: start, run, check, export")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[command...]")
    .action(async (_args: string[], _opts: unknown, self: Command) => {
      try {
        await inner.parseAsync(rawLocalArgs(self), { from: "user" });
      } catch (error) {
        if (error instanceof CommanderError && error.exitCode !== 0) {
          // argparse usage errors exit 2
          throw new CommanderError(2, error.code, error.message);
        }
        throw error;
      }
    });
  local.helpInformation = () => inner.helpInformation();
}

/** The same function under the name the other command groups use. */
export const registerLocal = register;

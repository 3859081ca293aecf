import { parseConcurrency, parseQuiet, choosePort, selectProcesses, expandProcesses } from "./expand.js";
import { Manager } from "./manager.js";
import { colourFor, Printer, SYSTEM } from "./printer.js";
import { readEnv, readLocalProcfile, type CommonOptions } from "./project.js";

export interface StartOptions extends CommonOptions {
  port: string | undefined;
  concurrency: string | undefined;
  quiet: string | undefined;
  processes: string[];
}

/**
 * `sarge local start`: everything is checked in honcho's order before the
 * first process starts (env files, Procfile, -c, port, process names).
 * Resolves with the exit status.
 */
export async function start(options: StartOptions): Promise<number> {
  const dotenv = readEnv(options);
  const procfile = readLocalProcfile(options, dotenv);
  const concurrency = parseConcurrency(options.concurrency);
  const quiet = parseQuiet(options.quiet);
  const port = choosePort(options.port, dotenv, process.env);
  const types = selectProcesses(procfile, options.processes);
  const specs = expandProcesses(types, { concurrency, dotenv, quiet, port });

  // When stdout goes away (`sarge local start | head`), stop printing and shut
  // the processes down rather than crash and leave them running in their sessions.
  let stdoutGone = false;
  const onStdoutError = (): void => {
    if (stdoutGone) return;
    stdoutGone = true;
    manager.terminate();
  };
  const printer = new Printer({
    write: (text) => {
      if (stdoutGone) return;
      try {
        process.stdout.write(text);
      } catch {
        onStdoutError();
      }
    },
    prefix: options.prefix,
    colour: options.colour && process.stdout.isTTY === true,
    width: Math.max(SYSTEM.length, ...specs.map((s) => s.name.length)),
  });
  const manager = new Manager(printer);
  process.stdout.on("error", onStdoutError);
  return manager.run(
    specs.map((spec, index) => ({
      name: spec.name,
      command: spec.command,
      quiet: spec.quiet,
      colour: colourFor(index),
      env: { ...process.env, ...Object.fromEntries(spec.env) },
    })),
  );
}

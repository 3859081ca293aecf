import type { Command } from "commander";
import type { BundleResult } from "../bundle/index.js";
import { ConfigError } from "../util/errors.js";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";

export function registerBundle(program: Command): void {
  program
    .command("bundle")
    .description(
      "from a git checkout, offline: git archive HEAD plus the wheels its requirements need (under .sarge/wheels, with the launcher .sarge/run), written as <app>-<commit>.tar.gz; prints its sha256",
    )
    .option("--wheels <dir>", "take the wheels from this folder (default: the dist folder of the home given by --home or $SARGE_HOME)")
    .option("-o, --output <dir>", "where to write the bundle (default: the current folder)")
    .option("--name <app>", "the bundle's name (default: the checkout folder's name)")
    .option("--json", "print the result as JSON (fields: file, sha256, bytes, app, commit, wheels, warning)")
    .action(async (options: { wheels?: string; output?: string; name?: string; json?: boolean }, command: Command) => {
      const wheels = await wheelSource(command, options);
      const { makeBundle } = await import("../bundle/index.js");
      const result: BundleResult = await makeBundle({ cwd: process.cwd(), wheels, outDir: options.output, name: options.name });
      if (result.warning) process.stderr.write(`sarge: warning: ${result.warning}\n`);
      if (options.json) printJson(result);
      else process.stdout.write(`${result.file}\nsha256 ${result.sha256}\n${result.wheels.length} wheels, ${result.bytes} bytes, commit ${result.commit}\n`);
    });
}

/** --wheels, else the dist/ of a home named explicitly: a bundle never guesses where wheels come from. */
async function wheelSource(command: Command, options: { wheels?: string }): Promise<string> {
  if (options.wheels) return options.wheels;
  if (!command.optsWithGlobals().home && !process.env.SARGE_HOME) {
    throw new ConfigError("sarge bundle needs wheels: give --wheels DIR, or --home HOME to take them from that home's dist folder");
  }
  const { loadConfig } = await import("../home/config.js");
  return loadConfig(resolveHome(command)).dist;
}

import { createReadStream } from "node:fs";
import { Option, type Command } from "commander";
import { ConfigError, SargeError } from "../util/errors.js";
import { withContext } from "./context.js";
import { printJson } from "./output.js";

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("deploy an archive (plain or gzip tar; - reads stdin) as new instances of the given process types; SIGTERM or SIGINT before the switch cancels it (exit 5)")
    .argument("<archive>", "tar file, or - for standard input (git archive HEAD | ... deploy - web)")
    .argument("<proc...>", "process types from the Procfile")
    .option("--stage", "everything but the switch: the new instances start and must be ready, then stay running, not routed, until `sarge activate <release>` (or `sarge discard <release>`)")
    .option("--force", "deploy even while deploys are locked (sarge lock); the shell user owns the home, so this is an admin's choice")
    .addOption(new Option("--release <number>", "the release number reserved for it (sarge serve's queue)").argParser(releaseNumber).hideHelp())
    .option("--json", "print the result as JSON (fields: release, commit, instances[{id, proc, port}], durationMs, switchMs, leftBehind)")
    .action(async (archive: string, procs: string[], options: { stage?: boolean; json?: boolean; force?: boolean; release?: number }, command: Command) => {
      if (archive === "-" && process.stdin.isTTY) {
        throw new SargeError("deploy - reads the archive from standard input, which is a terminal", {
          exitCode: 2,
          detail: "Pipe an archive in: git archive HEAD | sarge deploy - web",
        });
      }
      const [{ deploy }, { describeLeftBehind }, { cancelOnSignals }] = await Promise.all([
        import("../release/deploy.js"),
        import("../release/left-behind.js"),
        import("../release/cancel.js"),
      ]);
      const input = archive === "-" ? process.stdin : createReadStream(archive);
      const result = await withContext(command, "deploy", (ctx) =>
        cancelOnSignals(ctx, () => deploy(ctx, input, procs, { stage: options.stage, force: options.force, release: options.release })),
      );
      if (options.json) return printJson(result);
      const instances = result.instances.map((instance) => `${instance.id} (port ${instance.port})`).join(", ");
      const done = `release ${result.release}: ${instances} in ${(result.durationMs / 1000).toFixed(1)}s`;
      if (options.stage) return void process.stdout.write(`staged ${done}\nnot routed yet: sarge activate ${result.release} switches to it, sarge discard ${result.release} removes it\n`);
      process.stdout.write(`deployed ${done}\n`);
      for (const line of describeLeftBehind(result.leftBehind, result)) process.stdout.write(`${line}\n`);
    });
}

function releaseNumber(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new ConfigError(`--release: expected a release number, got "${text}"`);
  return Number(text);
}

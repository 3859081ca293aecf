import type { Command } from "commander";
import { SargeError } from "../util/errors.js";
import { resolveHome } from "./context.js";

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("an instance's output (stdout and stderr)")
    .argument("[target]", "instance id, or process type (its active instance; -f follows it across deploys); with --release, a process type of that release")
    .option("-f, --follow", "keep printing what is appended (across rotation and deploys)")
    .option("-n, --lines <count>", "how many lines to show first", (value) => Number.parseInt(value, 10), 100)
    .option("--release <n>", "the output of release N's instances, also after they failed or were removed", (value) => Number.parseInt(value, 10))
    .action(async (target: string | undefined, options: { follow?: boolean; lines: number; release?: number }, command: Command) => {
      const paths = resolveHome(command);
      if (options.release !== undefined) {
        if (options.follow) throw new SargeError("--follow and --release do not go together: follow a running instance by its id or process type", { exitCode: 2 });
        if (!Number.isSafeInteger(options.release) || options.release < 1) throw new SargeError("--release takes a release number (sarge history lists them)", { exitCode: 2 });
        const { describeMissingLog, releaseLogs } = await import("../release/release-logs.js");
        for (const log of releaseLogs(paths, options.release, options.lines, target)) {
          process.stdout.write(`--- ${log.instance} ---\n${log.kept ? log.text : describeMissingLog(log)}\n`);
        }
        return;
      }
      if (target === undefined) throw new SargeError("logs needs an instance id or a process type (or --release N)", { exitCode: 2 });
      const { followLog, readLogTail } = await import("../instance/logs.js");
      if (!options.follow) {
        const { text } = readLogTail(paths, target, options.lines);
        if (text) process.stdout.write(text + "\n");
        return;
      }
      const stop = new AbortController();
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
      await followLog(paths, target, options.lines, (text) => process.stdout.write(text), stop.signal);
    });
}

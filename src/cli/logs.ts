import type { Command } from "commander";
import { resolveHome } from "./context.js";

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("an instance's output (stdout and stderr)")
    .argument("<target>", "instance id, or process type (its active instance; -f follows it across deploys)")
    .option("-f, --follow", "keep printing what is appended (across rotation and deploys)")
    .option("-n, --lines <count>", "how many lines to show first", (value) => Number.parseInt(value, 10), 100)
    .action(async (target: string, options: { follow?: boolean; lines: number }, command: Command) => {
      const { followLog, readLogTail } = await import("../instance/logs.js");
      const paths = resolveHome(command);
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

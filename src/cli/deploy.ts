import { createReadStream } from "node:fs";
import type { Command } from "commander";
import { SargeError } from "../util/errors.js";
import { resolveHome, withContext } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerDeploy(program: Command): void {
  program
    .command("deploy")
    .description("deploy an archive (plain or gzip tar; - reads stdin) as new instances of the given process types")
    .argument("<archive>", "tar file, or - for standard input (git archive HEAD | ... deploy - web)")
    .argument("<proc...>", "process types from the Procfile")
    .option("--json", "print the result as JSON (fields: release, commit, instances[{id, proc, port}], durationMs, switchMs)")
    .action(async (archive: string, procs: string[], options: { json?: boolean }, command: Command) => {
      if (archive === "-" && process.stdin.isTTY) {
        throw new SargeError("deploy - reads the archive from standard input, which is a terminal", {
          exitCode: 2,
          detail: "Pipe an archive in: git archive HEAD | sarge deploy - web",
        });
      }
      const { deploy } = await import("../release/deploy.js");
      const input = archive === "-" ? process.stdin : createReadStream(archive);
      const result = await withContext(command, "deploy", (ctx) => deploy(ctx, input, procs));
      if (options.json) return printJson(result);
      const instances = result.instances.map((instance) => `${instance.id} (port ${instance.port})`).join(", ");
      process.stdout.write(`deployed release ${result.release}: ${instances} in ${(result.durationMs / 1000).toFixed(1)}s\n`);
    });

  program
    .command("rollback")
    .description("make a kept instance of a process type active again, with the same zero-downtime switch")
    .argument("<proc>", "process type")
    .option("--to <instance>", "the kept instance to go back to (default: the one active before the current one)")
    .option("--json", "print the result as JSON (fields: release, proc, from, to, switchMs, durationMs)")
    .action(async (proc: string, options: { to?: string; json?: boolean }, command: Command) => {
      const { rollback } = await import("../release/rollback.js");
      const result = await withContext(command, "rollback", (ctx) => rollback(ctx, proc, options.to));
      if (options.json) return printJson(result);
      process.stdout.write(`rolled ${proc} back: ${result.from ?? "nothing"} -> ${result.to} (release ${result.release})\n`);
    });

  program
    .command("history")
    .description("releases: who, when, commit, outcome, duration")
    .argument("[proc]", "only releases that touched this process type")
    .option("-n <count>", "only the last N releases", (value) => Number.parseInt(value, 10))
    .option("--json", "print JSON (one object per release, the fields of var/history.jsonl)")
    .action(async (proc: string | undefined, options: { n?: number; json?: boolean }, command: Command) => {
      const { readHistory } = await import("../release/history.js");
      const entries = readHistory(resolveHome(command)).filter((entry) => proc === undefined || entry.procs.includes(proc));
      const shown = options.n ? entries.slice(-options.n) : entries;
      if (options.json) return printJson(shown);
      process.stdout.write(
        formatTable(
          ["RELEASE", "KIND", "PROCS", "COMMIT", "WHO", "WHEN", "DURATION", "OUTCOME"],
          shown.map((entry) => [
            String(entry.release),
            entry.kind,
            entry.procs.join(","),
            entry.commit?.slice(0, 12) ?? "-",
            entry.from ? `${entry.user}@${entry.from}` : entry.user,
            entry.startedAt.replace("T", " ").slice(0, 19),
            `${(entry.durationMs / 1000).toFixed(1)}s`,
            entry.outcome === "success" ? "ok" : `FAILED: ${entry.error?.split("\n")[0] ?? ""}`,
          ]),
        ),
      );
    });
}

import type { Command } from "commander";
import type { HistoryEntry } from "../release/history.js";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerHistory(program: Command): void {
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
            outcomeWord(entry),
          ]),
        ),
      );
    });
}

function outcomeWord(entry: HistoryEntry): string {
  if (entry.outcome === "success") return "ok";
  return `${entry.outcome === "cancelled" ? "CANCELLED" : "FAILED"}: ${entry.error?.split("\n")[0] ?? ""}`;
}

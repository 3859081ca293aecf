import type { Command } from "commander";
import { formatAge } from "../util/format.js";
import { withContextOrRecorded } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerList(program: Command): void {
  program
    .command("list")
    .description("instances: id, proc, state, port, release, commit, age")
    .option("--json", "print JSON (fields: id, proc, state, process, pid, port, release, commit, createdAt, activatedAt, restarts)")
    .action(async (options: { json?: boolean }, command: Command) => {
      const { listInstances, recordedInstances } = await import("../instance/views.js");
      const instances = await withContextOrRecorded(command, "list", listInstances, (home) => recordedInstances(home.paths));
      if (options.json) return printJson(instances);
      process.stdout.write(
        formatTable(
          ["INSTANCE", "PROC", "STATE", "PROCESS", "PORT", "RELEASE", "COMMIT", "AGE"],
          instances.map((i) => [i.id, i.proc, i.state, i.process, String(i.port), String(i.release), i.commit?.slice(0, 12) ?? "-", formatAge(i.createdAt)]),
        ),
      );
    });
}

import type { Command } from "commander";
import type { LifecycleAction } from "../instance/commands.js";
import { formatAge } from "../util/format.js";
import { withContext } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerInstances(program: Command): void {
  program
    .command("list")
    .description("instances: id, proc, state, port, release, commit, age")
    .option("--json", "print JSON (fields: id, proc, state, process, pid, port, release, commit, createdAt, activatedAt, restarts)")
    .action(async (options: { json?: boolean }, command: Command) => {
      const { listInstances } = await import("../instance/views.js");
      const instances = await withContext(command, "list", listInstances);
      if (options.json) return printJson(instances);
      process.stdout.write(
        formatTable(
          ["INSTANCE", "PROC", "STATE", "PROCESS", "PORT", "RELEASE", "COMMIT", "AGE"],
          instances.map((i) => [i.id, i.proc, i.state, i.process, String(i.port), String(i.release), i.commit?.slice(0, 12) ?? "-", formatAge(i.createdAt)]),
        ),
      );
    });

  program
    .command("status")
    .description("per process type: active instance, stable address, health")
    .option("--json", "print JSON (fields: proc, active, address, port, process, restarts, healthy, lastLines)")
    .action(async (options: { json?: boolean }, command: Command) => {
      const { procStatus } = await import("../instance/views.js");
      const status = await withContext(command, "status", procStatus);
      if (options.json) return printJson(status);
      process.stdout.write(
        formatTable(
          ["PROC", "ACTIVE", "ADDRESS", "PORT", "PROCESS", "RESTARTS", "HEALTH"],
          status.map((s) => [s.proc, s.active ?? "-", s.address ?? "-", s.port === null ? "-" : String(s.port), s.process ?? "-", String(s.restarts), s.healthy ? "ok" : "FAILING"]),
        ),
      );
      for (const s of status.filter((entry) => entry.lastLines.length > 0)) {
        process.stdout.write(`\n${s.active} last log lines:\n${s.lastLines.map((line) => `  ${line}`).join("\n")}\n`);
      }
    });

  const lifecycle: Array<[LifecycleAction, string]> = [
    ["start", "start a stopped instance (routing is unchanged)"],
    ["stop", "stop an instance gracefully (SIGTERM to its process group, then SIGKILL)"],
    ["restart", "stop and start an instance"],
    ["destroy", "remove an instance: its process, folder and logs"],
  ];
  for (const [action, description] of lifecycle) {
    const sub = program.command(action).description(description).argument("<instance>", "instance id, like web-k3x9qa");
    if (action === "destroy") sub.option("--force", "destroy even the active instance");
    sub.action(async (id: string, options: { force?: boolean }, command: Command) => {
      const { changeInstance } = await import("../instance/commands.js");
      const message = await withContext(command, action, (ctx) => changeInstance(ctx, action, id, options));
      process.stdout.write(message + "\n");
    });
  }
}

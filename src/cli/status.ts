import type { Command } from "commander";
import { waitForSupervisor, withContextOrRecorded } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("per process type: active instance, stable address, health")
    .option("--json", "print JSON (fields: proc, active, address, port, process, restarts, healthy, problem, lastLines, deployLock)")
    .option("--wait [seconds]", "first wait until the supervisor answers, up to SECONDS (default 30); exit 3 if it never does")
    .action(async (options: { json?: boolean; wait?: true | string }, command: Command) => {
      if (options.wait !== undefined) await waitForSupervisor(command, options.wait);
      const [{ procStatus, recordedStatus }, { describeFreeze }] = await Promise.all([import("../instance/views.js"), import("../home/deploy-freeze.js")]);
      const status = await withContextOrRecorded(command, "status", procStatus, recordedStatus);
      if (options.json) return printJson(status);
      process.stdout.write(
        formatTable(
          ["PROC", "ACTIVE", "ADDRESS", "PORT", "PROCESS", "RESTARTS", "HEALTH"],
          status.map((s) => [s.proc, s.active ?? "-", s.address ?? "-", s.port === null ? "-" : String(s.port), s.process ?? "-", String(s.restarts), healthWord(s.healthy)]),
        ),
      );
      const deployLock = status[0]?.deployLock;
      if (deployLock) process.stdout.write(`\ndeploys are ${describeFreeze(deployLock)}\n`);
      for (const s of status.filter((entry) => entry.problem !== null)) process.stdout.write(`\n${s.proc}: ${s.problem}\n`);
      for (const s of status.filter((entry) => entry.lastLines.length > 0)) {
        process.stdout.write(`\n${s.active} last log lines:\n${s.lastLines.map((line) => `  ${line}`).join("\n")}\n`);
      }
    });
}

function healthWord(healthy: boolean | null): string {
  if (healthy === null) return "unknown";
  return healthy ? "ok" : "FAILING";
}

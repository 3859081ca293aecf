import type { Command } from "commander";
import type { UpgradeReport } from "../home/upgrade.js";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";

export function registerUpgrade(program: Command): void {
  program
    .command("upgrade")
    .description("switch the home to the sarge running this command (copied into <home>/opt/), restarting its supervisor without stopping any app")
    .option("--home <dir>", "the home to switch (as `sarge --home <dir> upgrade`)")
    .option("--undo", "go back to the sarge the home ran before the last upgrade")
    .option("--json", "print JSON (fields: home, from, to, supervisor, removed)")
    .action(async (options: { undo?: boolean; json?: boolean }, command: Command) => {
      const { upgradeHome } = await import("../home/upgrade.js");
      const report = await upgradeHome(resolveHome(command), { undo: options.undo ?? false });
      if (options.json) printJson(report);
      else process.stdout.write(describeUpgrade(report));
    });
}

function describeUpgrade(report: UpgradeReport): string {
  const switched = report.from === report.to ? `${report.home} runs sarge ${report.to} already` : `${report.home}: sarge ${report.from ?? "(not pinned)"} -> ${report.to}`;
  return [switched, "  " + describeSupervisor(report.supervisor), ...report.removed.map((name) => `  removed opt/${name}`)].join("\n") + "\n";
}

function describeSupervisor(supervisor: UpgradeReport["supervisor"]): string {
  switch (supervisor.kind) {
    case "restarted":
      return `supervisor restarted onto it (pid ${supervisor.from} -> ${supervisor.to}); every app kept running`;
    case "current":
      return `supervisor runs it already (pid ${supervisor.pid})`;
    case "not running":
      return "supervisor not running: it runs this sarge once started";
    case "restart needed":
      return `supervisor (pid ${supervisor.pid}) runs sarge ${supervisor.version ?? "(an older one)"}, which cannot hand over: restart it to finish; its apps keep running and are adopted`;
    case "supervisord files rendered":
      return "supervisord's launcher and restarter rendered again";
  }
}

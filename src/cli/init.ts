import { resolve } from "node:path";
import type { Command } from "commander";
import type { InitReport } from "../home/init.js";
import { homePaths } from "../home/paths.js";
import { ConfigError } from "../util/errors.js";
import { printJson } from "./output.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create a sarge home (safe to run again: existing files are kept)")
    .argument("<home>", "folder to create or complete")
    .option("--supervisor <kind>", "builtin or supervisord", "builtin")
    .option("--json", "print the report as JSON")
    .action(async (home: string, options: { supervisor: string; json?: boolean }) => {
      if (options.supervisor !== "builtin" && options.supervisor !== "supervisord") {
        throw new ConfigError(`--supervisor: expected builtin or supervisord, got "${options.supervisor}"`);
      }
      const { initHome } = await import("../home/init.js");
      const { actAsOwnerOf } = await import("../home/owner.js");
      actAsOwnerOf(resolve(home));
      const report = await initHome(homePaths(resolve(home)), { supervisor: options.supervisor });
      if (options.json) printJson(report);
      else process.stdout.write(describeInit(report));
    });
}

export function describeInit(report: InitReport): string {
  const lines = report.files.map(({ path, outcome }) =>
    outcome === "created" ? `  created ${path}` : `  kept    ${path} (already there; left as it is)`,
  );
  const fresh = report.files.every((file) => file.outcome === "created");
  return [
    `${fresh ? "Created" : "Checked"} sarge home ${report.home}`,
    ...lines,
    "",
    "Start the supervisor now:",
    `  nohup ${report.home}/bin/supervisord >>${report.home}/var/log/supervisord.out 2>&1 &`,
    "Start it at boot (systemd):",
    `  sudo cp ${report.unitFile} /etc/systemd/system/${report.unitName}`,
    `  sudo systemctl daemon-reload && sudo systemctl enable --now ${report.unitName}`,
    "Then deploy from your checkout:",
    `  git archive HEAD | ssh <server> ${report.home}/bin/sarge deploy - web`,
    "",
  ].join("\n");
}

import type { Command } from "commander";
import { sargeVersion } from "../util/version.js";
import { printJson } from "./output.js";

/** `sarge version` and `sarge --version`: this sarge's version (a checkout's carries a hash of its build, src/util/version.ts). */
export function registerVersion(program: Command): void {
  program.option("--version", "print this sarge's version").on("option:version", () => {
    process.stdout.write(`sarge ${sargeVersion()}\n`);
    process.exit(0);
  });
  program
    .command("version")
    .description("print this sarge's version")
    .option("--json", "print JSON (fields: sarge_version)")
    .action((options: { json?: boolean }) => {
      if (options.json) printJson({});
      else process.stdout.write(`sarge ${sargeVersion()}\n`);
    });
}

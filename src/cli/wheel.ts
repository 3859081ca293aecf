import type { Command } from "commander";
import type { WheelReport } from "../python-env/wheel.js";
import { SargeError } from "../util/errors.js";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";

export function registerWheel(program: Command): void {
  program
    .command("wheel")
    .description("copy wheels into the home's dist folder, or build them from a project folder or sdist, offline (like `pip wheel -w dist`)")
    .argument("<requirement-or-path...>", "a .whl file, an sdist, a project folder, or a requirement whose sdist is already in dist")
    .option("-v, --verbose", "show pip's output")
    .option("--json", "print what was done as JSON (fields: dist, results[{input, action, files, missingDependencies, error, detail}])")
    .action(async (inputs: string[], options: { verbose?: boolean; json?: boolean }, command: Command) => {
      const paths = resolveHome(command);
      const { loadConfig } = await import("../home/config.js");
      const { addToDist } = await import("../python-env/wheel.js");
      const config = loadConfig(paths);
      const results = await addToDist(inputs, {
        paths,
        python: config.python,
        dist: config.dist,
        log: options.verbose ? (line) => process.stderr.write(line + "\n") : () => undefined,
      });
      const failed = results.filter((result) => result.action === "failed");
      if (options.json) {
        const report: WheelReport = { dist: config.dist, results };
        printJson(report);
      } else {
        for (const result of results) {
          if (result.action === "failed") continue;
          const verb = result.action === "present" ? "already in" : result.action === "copied" ? "copied into" : "built into";
          process.stdout.write(`${result.input}: ${verb} ${config.dist}: ${result.files.join(", ")}\n`);
          if (result.missingDependencies.length > 0) {
            process.stdout.write(`  needs, not in dist yet: ${result.missingDependencies.join(", ")}\n`);
          }
        }
      }
      if (failed.length > 0) {
        const [first, ...rest] = failed;
        const detail = [first!.detail, ...rest.map((result) => `${result.error}${result.detail ? "\n" + result.detail : ""}`)]
          .filter(Boolean)
          .join("\n");
        throw new SargeError(
          failed.length === 1 && results.length === 1 ? first!.error! : `${failed.length} of ${results.length} not added: ${first!.error}`,
          detail ? { detail } : {},
        );
      }
    });
}

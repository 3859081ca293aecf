import type { Command } from "commander";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("probe each process type's stable address with the health check (health.http_path, else TCP) for a while; exit 1 at the first failure (a fleet push runs it on each host after its switch)")
    .argument("[proc...]", "process types (default: every one in port_map); those without a stable address are skipped")
    .option("--for <duration>", "keep probing this long (30, 2.5s, 1m); 0 probes once", "0")
    .option("--passes <n>", "and until each has passed this many probes in a row, 250 ms apart", "1")
    .option("--json", "print JSON (fields: procs, probes, durationMs)")
    .action(async (procs: string[], options: { for: string; passes: string; json?: boolean }, command: Command) => {
      const [{ parseDuration }, { loadConfig }, { verifyStable }, { ConfigError }] = await Promise.all([
        import("../home/duration.js"),
        import("../home/config.js"),
        import("../instance/verify.js"),
        import("../util/errors.js"),
      ]);
      const forMs = parseDuration(options.for);
      if (forMs === null) throw new ConfigError(`--for ${JSON.stringify(options.for)}: expected a duration (30, 2.5s, 1m)`);
      const passes = Number(options.passes);
      if (!Number.isInteger(passes) || passes < 1) throw new ConfigError(`--passes ${JSON.stringify(options.passes)}: expected a number of probes, 1 or more`);
      const result = await verifyStable(loadConfig(resolveHome(command)), procs, forMs, passes);
      if (options.json) return printJson(result);
      process.stdout.write(`verified ${result.procs.join(", ") || "nothing"}: ${result.probes} probes in ${(result.durationMs / 1000).toFixed(1)}s, all answered\n`);
    });
}

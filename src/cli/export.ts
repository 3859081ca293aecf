import type { Command } from "commander";
import type { SargeConfig } from "../home/config-types.js";
import { resolveHome } from "./context.js";

interface ExportNomadFlags {
  artifactUrl?: string;
  bundle?: string;
  sha256?: string;
  dir: string;
  name?: string;
  count?: string;
  driver?: string;
  datacenters?: string;
  output: string;
  submit?: string;
}

export function registerExport(program: Command): void {
  const exportCommand = program.command("export").description("the app as another scheduler's jobs (docs/nomad.md)");
  exportCommand
    .command("nomad")
    .description(
      "Nomad jobs (the HTTP API's JSON) for a bundle made by sarge bundle: one task group per process type, the release hook as a batch job; written as <job>.nomad.json, or registered with --submit",
    )
    .option("--artifact-url <url>", "where Nomad's clients download the bundle (http, https, s3, gcs)")
    .option("--bundle <file>", "the bundle: its Procfile, its sha256 and the job name <app> come from it")
    .option("--sha256 <hex>", "the bundle's sha256 as sarge bundle printed it (without --bundle: the Procfile comes from -d)")
    .option("-d, --dir <dir>", "the app folder whose Procfile is read without --bundle", ".")
    .option("--name <job>", "the job's ID (default: the bundle's <app>, else the folder's name); the release job is <job>-release")
    .option("-c, --count <counts>", "allocations per process type, e.g. web=2,worker=1 (default 1 each)")
    .option("--driver <driver>", "the task driver: exec or raw_exec", "exec")
    .option("--datacenters <names>", "comma-separated datacenters (default: all, \"*\")")
    .option("-o, --output <dir>", "where to write the job files", ".")
    .option("--submit <address>", "register the jobs with Nomad at this address (http://host:4646) instead of writing files: the release job first, then follow the deployment; X-Nomad-Token from $NOMAD_TOKEN")
    .action(async (flags: ExportNomadFlags, command: Command) => {
      const nomad = await import("../nomad/index.js");
      const jobs = await nomad.makeNomadJobs({ ...flags, config: await homeConfig(command) });
      if (flags.submit === undefined) {
        for (const file of nomad.writeNomadJobs(jobs, flags.output)) process.stdout.write(`${file}\n`);
        return;
      }
      const [{ NomadApi }, { submitJobs }] = await Promise.all([import("../nomad/api.js"), import("../nomad/submit.js")]);
      await submitJobs(jobs, new NomadApi(flags.submit, process.env.NOMAD_TOKEN), (line) => process.stdout.write(`${line}\n`));
    });
}

/** The home's settings when one is named (--home, $SARGE_HOME); without one, a fresh home's defaults. */
async function homeConfig(command: Command): Promise<SargeConfig | null> {
  if (!command.optsWithGlobals().home && !process.env.SARGE_HOME) return null;
  const { loadConfig } = await import("../home/config.js");
  return loadConfig(resolveHome(command));
}

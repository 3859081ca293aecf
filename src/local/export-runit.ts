import { join } from "node:path";
import { dashrepl, loadTemplate, type ExportFile, type TemplateProcess, type TemplateSource } from "./export-templates.js";

/**
 * honcho's runit export: one service folder `<app>-<type>-<N>/` per process with its `run`
 * script, its logger `log/run` (svlogd), and its environment as an envdir `env/<KEY>` (one file
 * per variable holding the value as is, read by `chpst -e`).
 */
export function renderRunit(source: TemplateSource, context: Record<string, unknown>, processes: TemplateProcess[]): ExportFile[] {
  const run = loadTemplate(source, "run");
  const logRun = loadTemplate(source, join("log", "run"));
  const app = String(context.app);
  return processes.flatMap((process) => {
    const service = `${app}-${dashrepl(process.name)}`;
    const processContext = { ...context, process };
    return [
      ...process.env.map(({ key, value }) => ({ name: join(service, "env", key), content: value })),
      { name: join(service, "run"), content: run(processContext), executable: true },
      { name: join(service, "log", "run"), content: logRun(processContext), executable: true },
    ];
  });
}

import { loadTemplate, processGroups, type ExportFile, type TemplateProcess, type TemplateSource } from "./export-templates.js";

/**
 * honcho's upstart export: `<app>.conf` (started with the network), one `<app>-<type>.conf` per
 * process type started with it, and one `<app>-<type>-<N>.conf` job per process.
 */
export function renderUpstart(source: TemplateSource, context: Record<string, unknown>, processes: TemplateProcess[]): ExportFile[] {
  const master = loadTemplate(source, "master.conf");
  const processMaster = loadTemplate(source, "process_master.conf");
  const job = loadTemplate(source, "process.conf");
  const app = String(context.app);
  const files: ExportFile[] = [{ name: `${app}.conf`, content: master(context) }];
  for (const group of processGroups(app, processes)) {
    const groupContext = { ...context, group_name: group.name };
    files.push({ name: `${group.name}.conf`, content: processMaster(groupContext) });
    for (const { name, process } of group.processes) files.push({ name: `${name}.conf`, content: job({ ...groupContext, process }) });
  }
  return files;
}

import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { LocalError } from "./errors.js";
import type { ExportFormat } from "./export-formats.js";
import { renderRunit } from "./export-runit.js";
import { loadTemplate, processGroups, templateProcess, type ExportFile, type TemplateProcess } from "./export-templates.js";
import { renderUpstart } from "./export-upstart.js";
import { choosePort, expandProcesses, longRunning, parseConcurrency } from "./expand.js";
import { log } from "./log.js";
import { readEnv, readLocalProcfile, type CommonOptions } from "./project.js";
import { pathJoin } from "../procfile/pyutil.js";

export { EXPORT_FORMATS, type ExportFormat } from "./export-formats.js";

export interface ExportOptions extends CommonOptions {
  format: ExportFormat;
  location: string;
  /** `-a`, default: the basename of the current directory. */
  app: string | undefined;
  /** `-l`, default `/var/log/<app>`. */
  log: string | undefined;
  port: string | undefined;
  concurrency: string | undefined;
  /** `-u`, default: the app name. */
  user: string | undefined;
  /** `-s`, default `/bin/sh`. */
  shell: string | undefined;
  /** `-t`: a folder with the format's template files, replacing sarge's. */
  templateDir: string | undefined;
}

function renderSupervisord(options: ExportOptions, context: Record<string, unknown>): ExportFile[] {
  const template = loadTemplate(options, "supervisord.conf");
  return [{ name: `${context.app}.conf`, content: template(context) }];
}

function renderSystemd(options: ExportOptions, context: Record<string, unknown>, processes: TemplateProcess[]): ExportFile[] {
  const master = loadTemplate(options, "master.target");
  const processMaster = loadTemplate(options, "process_master.target");
  const service = loadTemplate(options, "process.service");
  const app = String(context.app);
  const groups = processGroups(app, processes);
  const files: ExportFile[] = [];
  const masterContext = {
    ...context,
    process_groups: groups,
    master_wants: groups.map((g) => `${g.name}.target`).join(" "),
  };
  files.push({ name: `${app}.target`, content: master(masterContext) });
  for (const group of groups) {
    const groupContext = {
      ...masterContext,
      process_master_name: group.name,
      process_master_wants: group.processes.map((p) => `${p.name}.service`).join(" "),
    };
    files.push({ name: `${group.name}.target`, content: processMaster(groupContext) });
    for (const { name, process } of group.processes) {
      files.push({ name: `${name}.service`, content: service({ ...groupContext, process_name: name, process }) });
    }
  }
  return files;
}

/** `sarge local export FORMAT LOCATION` (docs/local.md, `export`). */
export function exportProcfile(options: ExportOptions): void {
  const dotenv = readEnv(options);
  const procfile = readLocalProcfile(options, dotenv);
  const concurrency = parseConcurrency(options.concurrency);
  const port = choosePort(options.port, dotenv, process.env);
  const processes = expandProcesses(longRunning(procfile), { concurrency, dotenv, quiet: [], port }).map(templateProcess);

  const app = options.app ?? basename(process.cwd());
  const logDir = options.log === undefined || options.log === "/var/log/APP" ? `/var/log/${app}` : options.log;
  const context = {
    app,
    app_root: resolve(options.appRoot),
    log: logDir,
    shell: options.shell ?? "/bin/sh",
    user: options.user ?? app,
    processes,
  };
  const renderers = {
    supervisord: () => renderSupervisord(options, context),
    systemd: () => renderSystemd(options, context, processes),
    upstart: () => renderUpstart(options, context, processes),
    runit: () => renderRunit(options, context, processes),
  };
  const files = renderers[options.format]();

  makeDirectory(options.location);
  for (const file of files) {
    const path = pathJoin(options.location, file.name);
    log("INFO", `Writing '${path}'`);
    makeDirectory(dirname(path));
    try {
      writeFileSync(path, file.content);
      if (file.executable) chmodSync(path, 0o755);
    } catch (error) {
      log("ERROR", "Could not write to export file");
      throw new LocalError((error as Error).message);
    }
  }
}

function makeDirectory(path: string): void {
  if (existsSync(path)) return;
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    log("ERROR", "Could not create export directory");
    throw new LocalError((error as Error).message);
  }
}

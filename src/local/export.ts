import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import Handlebars from "handlebars";
import { templatesDir } from "../util/package-root.js";
import { LocalError } from "./errors.js";
import type { ExportFormat } from "./export-formats.js";
import { choosePort, expandProcesses, longRunning, parseConcurrency, type ProcessSpec } from "./expand.js";
import { log } from "./log.js";
import { readEnv, readLocalProcfile, type CommonOptions } from "./project.js";
import { pathJoin, shellQuote } from "../procfile/pyutil.js";

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

/** A process as templates see it (honcho's ProcessParams). */
interface TemplateProcess {
  name: string;
  cmd: string;
  quiet: boolean;
  env: Array<{ key: string; value: string }>;
}

interface ExportFile {
  name: string;
  content: string;
}

/** honcho's template filters, as Handlebars helpers of a private instance. */
const hbs = Handlebars.create();
/** honcho's dashrepl: every non-word character becomes `-` (`web.1` → `web-1`). */
export const dashrepl = (value: string): string => value.replace(/[^\p{L}\p{N}_]/gu, "-");
hbs.registerHelper("dashrepl", (value: unknown) => dashrepl(String(value)));
hbs.registerHelper("shellquote", (value: unknown) => shellQuote(String(value)));
hbs.registerHelper("percentescape", (value: unknown) => String(value).replaceAll("%", "%%"));

function loadTemplate(options: ExportOptions, name: string): Handlebars.TemplateDelegate {
  const dir = options.templateDir ?? join(templatesDir, "local-export", options.format);
  const path = join(dir, name);
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch {
    throw new LocalError(`template '${name}' for ${options.format} not found in ${dir}`);
  }
  return hbs.compile(source, { noEscape: true });
}

function templateProcess(spec: ProcessSpec): TemplateProcess {
  return {
    name: spec.name,
    cmd: spec.command,
    quiet: spec.quiet,
    env: [...spec.env].map(([key, value]) => ({ key, value })),
  };
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
  // consecutive processes of one type form a group: <app>-<type>.target
  const groups: Array<{ name: string; processes: Array<{ name: string; process: TemplateProcess }> }> = [];
  for (const process of processes) {
    const type = process.name.split(".")[0]!;
    const groupName = `${app}-${type}`;
    let group = groups[groups.length - 1];
    if (!group || group.name !== groupName) {
      group = { name: groupName, processes: [] };
      groups.push(group);
    }
    group.processes.push({ name: `${app}-${dashrepl(process.name)}`, process });
  }
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
  const files =
    options.format === "supervisord" ? renderSupervisord(options, context) : renderSystemd(options, context, processes);

  makeDirectory(options.location);
  for (const file of files) {
    const path = pathJoin(options.location, file.name);
    log("INFO", `Writing '${path}'`);
    makeDirectory(dirname(path));
    try {
      writeFileSync(path, file.content);
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

/** What every `sarge local export` format shares: the processes as templates see them, the templates and honcho's filters. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { shellQuote } from "../procfile/pyutil.js";
import { templatesDir } from "../util/package-root.js";
import { LocalError } from "./errors.js";
import type { ExportFormat } from "./export-formats.js";
import type { ProcessSpec } from "./expand.js";

/** A process as templates see it (honcho's ProcessParams). */
export interface TemplateProcess {
  name: string;
  cmd: string;
  quiet: boolean;
  env: Array<{ key: string; value: string }>;
}

/** One file to write, relative to the export location; executable ones get mode 0755 (runit's run scripts). */
export interface ExportFile {
  name: string;
  content: string;
  executable?: boolean;
}

/** Where a format's templates come from: `-t DIR`, else templates/local-export/<format>/. */
export interface TemplateSource {
  format: ExportFormat;
  templateDir: string | undefined;
}

/** honcho's template filters, as Handlebars helpers of a private instance. */
const hbs = Handlebars.create();
/** honcho's dashrepl: every non-word character becomes `-` (`web.1` → `web-1`). */
export const dashrepl = (value: string): string => value.replace(/[^\p{L}\p{N}_]/gu, "-");
hbs.registerHelper("dashrepl", (value: unknown) => dashrepl(String(value)));
hbs.registerHelper("shellquote", (value: unknown) => shellQuote(String(value)));
hbs.registerHelper("percentescape", (value: unknown) => String(value).replaceAll("%", "%%"));

export function loadTemplate(source: TemplateSource, name: string): Handlebars.TemplateDelegate {
  const dir = source.templateDir ?? join(templatesDir, "local-export", source.format);
  const path = join(dir, name);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new LocalError(`template '${name}' for ${source.format} not found in ${dir}`);
  }
  return hbs.compile(text, { noEscape: true });
}

export function templateProcess(spec: ProcessSpec): TemplateProcess {
  return {
    name: spec.name,
    cmd: spec.command,
    quiet: spec.quiet,
    env: [...spec.env].map(([key, value]) => ({ key, value })),
  };
}

export interface ProcessGroup {
  /** `<app>-<type>` */
  name: string;
  /** Each process with its unit name `<app>-<name with dashes>` (`shop-web-1`). */
  processes: Array<{ name: string; process: TemplateProcess }>;
}

/** Consecutive processes of one type form a group, as honcho's itertools.groupby on the type. */
export function processGroups(app: string, processes: TemplateProcess[]): ProcessGroup[] {
  const groups: ProcessGroup[] = [];
  for (const process of processes) {
    const groupName = `${app}-${process.name.split(".")[0]!}`;
    let group = groups[groups.length - 1];
    if (!group || group.name !== groupName) {
      group = { name: groupName, processes: [] };
      groups.push(group);
    }
    group.processes.push({ name: `${app}-${dashrepl(process.name)}`, process });
  }
  return groups;
}

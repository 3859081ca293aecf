import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type Handlebars from "handlebars";
import { templatesDir } from "../../util/package-root.js";
import { dashboardHelpers } from "./helpers.js";

export const dashboardTemplates = join(templatesDir, "dashboard");

const require = createRequire(import.meta.url);
const compiled = new Map<string, Handlebars.TemplateDelegate>();

/**
 * The dashboard's own Handlebars (HTML-escaped, unlike the config templates
 * of src/util/templates.ts), loaded with the first page: a server used only
 * through the API never holds it (about 8 MiB).
 */
function load(): void {
  const engine = (require("handlebars") as typeof Handlebars).create();
  for (const [name, helper] of Object.entries(dashboardHelpers(engine))) engine.registerHelper(name, helper);
  for (const file of readdirSync(dashboardTemplates)) {
    if (!file.endsWith(".hbs")) continue;
    const name = file.slice(0, -".hbs".length);
    const source = readFileSync(join(dashboardTemplates, file), "utf8");
    // a name starting with _ is a partial (the layout, shared rows); the others are pages
    if (name.startsWith("_")) engine.registerPartial(name.slice(1), source);
    else compiled.set(name, engine.compile(source, { strict: false }));
  }
}

/** Render templates/dashboard/<page>.hbs (it wraps itself in the layout partial). */
export function renderPage(page: string, view: object): string {
  if (compiled.size === 0) load();
  const template = compiled.get(page);
  if (!template) throw new Error(`no dashboard template ${page}.hbs in ${dashboardTemplates}`);
  return template(view);
}

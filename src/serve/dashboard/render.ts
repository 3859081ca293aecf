import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { templatesDir } from "../../util/package-root.js";
import { dashboardHelpers } from "./helpers.js";

export const dashboardTemplates = join(templatesDir, "dashboard");

/** The dashboard's own Handlebars: HTML-escaped, unlike the config templates of src/util/templates.ts. */
const engine = Handlebars.create();
for (const [name, helper] of Object.entries(dashboardHelpers)) engine.registerHelper(name, helper);

const compiled = new Map<string, Handlebars.TemplateDelegate>();

function load(): void {
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

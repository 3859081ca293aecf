import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { TemplateDelegate } from "handlebars";
import { templatesDir } from "./package-root.js";
import { shellQuote } from "./shell-quote.js";

const require = createRequire(import.meta.url);
const compiled = new Map<string, TemplateDelegate>();

/** Handlebars, loaded with the first template: commands that render nothing (sarge list) skip its start-up. */
function handlebars(): typeof import("handlebars") {
  const instance = require("handlebars") as typeof import("handlebars");
  if (!instance.helpers.sh) instance.registerHelper("sh", (value: unknown) => shellQuote(String(value)));
  return instance;
}

/** Render templates/<name>.hbs. Output is config and shell text, so nothing is HTML-escaped. */
export function renderTemplate(name: string, data: object): string {
  let template = compiled.get(name);
  if (!template) {
    template = handlebars().compile(readFileSync(join(templatesDir, `${name}.hbs`), "utf8"), { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return template(data);
}

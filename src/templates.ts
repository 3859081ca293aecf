import { readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import { templatesDir } from "./package-root.js";

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** Render templates/<name>.hbs. Output is config and shell text, so nothing is HTML-escaped. */
export function renderTemplate(name: string, data: object): string {
  let template = compiled.get(name);
  if (!template) {
    template = Handlebars.compile(readFileSync(join(templatesDir, `${name}.hbs`), "utf8"), { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return template(data);
}

/** Quote a string for /bin/sh: single quotes, with embedded ones closed, escaped and reopened. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_\/.:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
Handlebars.registerHelper("sh", (value: unknown) => shellQuote(String(value)));

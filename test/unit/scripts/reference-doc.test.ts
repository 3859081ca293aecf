import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, JSON_OUTPUTS, NOTIFY_FIELDS, REGENERATE, renderReference } from "../../../scripts/reference-doc.js";
import { buildProgram } from "../../../src/cli/main.js";
import { notifyPayload } from "../../../src/release/notify.js";
import { parseConfig } from "../../../src/home/config.js";
import { packageRoot } from "../../../src/util/package-root.js";

const referencePath = join(packageRoot, "docs", "reference.md");

/** Every command below `command` with its path after the program name (`deploy`, `config list`). */
function commandsOf(command: Command, prefix: string[] = []): Array<{ key: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [{ key: path.join(" "), command: sub }, ...commandsOf(sub, path)];
  });
}

/** The known keys a config error lists for an unknown key under `section` (null: top level). */
function knownKeys(section: string | null): string[] {
  const yaml = section === null ? "port_range: [5010, 5099]\nzzz_unknown: 1\n" : `port_range: [5010, 5099]\n${section}:\n  zzz_unknown: 1\n`;
  try {
    parseConfig(yaml, "sarge.yaml", "/home");
  } catch (error) {
    const match = /\(known keys: ([^)]*)\)/.exec((error as Error).message);
    if (match) return match[1]!.split(", ");
    throw error;
  }
  throw new Error(`an unknown key under ${section ?? "the top level"} was accepted`);
}

/** etc/sarge.yaml text setting each key to `value(entry)`. */
function yamlOf(value: (entry: (typeof CONFIG_KEYS)[number]) => string | null): string {
  const lines: string[] = [];
  const sections = new Map<string, string[]>();
  for (const entry of CONFIG_KEYS) {
    const text = value(entry);
    if (text === null) continue;
    const [first, second] = entry.key.split(".") as [string, string | undefined];
    if (second === undefined) lines.push(`${first}: ${text}`);
    else sections.set(first, [...(sections.get(first) ?? []), `  ${second}: ${text}`]);
  }
  for (const [section, keys] of sections) lines.push(`${section}:`, ...keys);
  return lines.join("\n") + "\n";
}

describe("docs/reference.md", () => {
  it("is what the commander definitions generate (regenerate it when this fails)", async () => {
    const expected = renderReference(await buildProgram());
    const actual = readFileSync(referencePath, "utf8");
    expect(actual, `docs/reference.md is out of date; regenerate it: ${REGENERATE}`).toBe(expected);
  });

  it("documents the JSON output of every command with --json, and only of those", async () => {
    const withJson = commandsOf(await buildProgram())
      .filter(({ command }) => command.options.some((option) => option.long === "--json"))
      .map(({ key }) => key)
      .sort();
    expect(withJson, "add the fields of each --json output to JSON_OUTPUTS in scripts/reference-doc.ts").toEqual(Object.keys(JSON_OUTPUTS).sort());
  });

  it("names the same top-level fields as each --json option description that lists fields", async () => {
    for (const { key, command } of commandsOf(await buildProgram())) {
      const description = command.options.find((option) => option.long === "--json")?.description ?? "";
      const listed = /\(fields: (.*)\)$/.exec(description)?.[1];
      if (!listed) continue;
      // "release, commit, instances[{id, proc, port}], durationMs" -> top-level names
      const names = listed
        .replace(/\[\{[^}]*\}\]/g, "")
        .split(",")
        .map((name) => name.trim());
      const documented = JSON_OUTPUTS[key]!.fields.map(([name]) => name).filter((name) => !name.includes("."));
      expect(documented, `sarge ${key} --json`).toEqual(names);
    }
  });

  it("documents the notify payload's fields", () => {
    const payload = notifyPayload({ kind: "deploy.failed", release: 1, procs: ["web"], instances: [], commit: null, user: "u", host: "h", error: "e", durationMs: 1 });
    expect(NOTIFY_FIELDS.map(([name]) => name).sort()).toEqual(Object.keys(payload).sort());
  });
});

describe("the configuration keys in docs/reference.md", () => {
  const sections = [...new Set(CONFIG_KEYS.filter((entry) => entry.key.includes(".")).map((entry) => entry.key.split(".")[0]!))];

  it("are exactly the keys the parser knows, at the top level and in every section", () => {
    expect(CONFIG_KEYS.map((entry) => entry.key.split(".")[0]).filter((key, index, all) => all.indexOf(key) === index)).toEqual(knownKeys(null));
    for (const section of sections) {
      expect(
        CONFIG_KEYS.filter((entry) => entry.key.startsWith(`${section}.`)).map((entry) => entry.key.slice(section.length + 1)),
        section,
      ).toEqual(knownKeys(section));
    }
  });

  it("have the defaults the parser uses", () => {
    const minimal = yamlOf((entry) => (entry.default === null ? entry.example! : null));
    const explicit = yamlOf((entry) => entry.default ?? entry.example!);
    expect(parseConfig(explicit, "sarge.yaml", "/home")).toEqual(parseConfig(minimal, "sarge.yaml", "/home"));
  });

  it("have the documented ranges", () => {
    for (const entry of CONFIG_KEYS.filter((candidate) => candidate.range)) {
      const [min, max] = entry.range!;
      const withValue = (value: number) => yamlOf((other) => (other === entry ? String(value) : other.default === null ? other.example! : null));
      for (const ok of [min, max]) expect(() => parseConfig(withValue(ok), "sarge.yaml", "/home"), `${entry.key}: ${ok}`).not.toThrow();
      for (const bad of [min - 1, max + 1]) expect(() => parseConfig(withValue(bad), "sarge.yaml", "/home"), `${entry.key}: ${bad}`).toThrow(entry.key);
    }
  });
});

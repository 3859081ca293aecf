import { readFileSync } from "node:fs";
import { isMap, parseDocument } from "yaml";
import { writeFileAtomic } from "../util/atomic-file.js";
import { ConfigError } from "../util/errors.js";
import { parseConfig } from "./config.js";
import type { SargeConfig } from "./config-types.js";
import type { HomePaths } from "./paths.js";

const envKeyPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `KEY=VALUE` words of `sarge config set`, checked. */
export function parseAssignments(words: string[]): Array<[string, string]> {
  return words.map((word) => {
    const [key, value] = splitAssignment(word) ?? [word, undefined];
    if (value === undefined) throw new ConfigError(`"${word}" is not KEY=VALUE`);
    assertEnvKey(key);
    return [key, value];
  });
}

/**
 * KEY=VALUE lines of `config set --stdin` or `--from-file`, which keep values
 * out of the command line (other users can read /proc/<pid>/cmdline). Blank
 * lines and # comments are skipped; the value is the rest of the line as
 * written, quotes included. A bad line is named by its number only.
 */
export function parseAssignmentLines(text: string, source: string): Array<[string, string]> {
  return text.split("\n").flatMap((line, index): Array<[string, string]> => {
    const content = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (/^\s*(#|$)/.test(content)) return [];
    const assignment = splitAssignment(content);
    if (!assignment || !envKeyPattern.test(assignment[0])) {
      throw new ConfigError(
        `${source}, line ${index + 1} is not KEY=VALUE with KEY of letters, digits and _, not starting with a digit (the line is not shown: it may hold a secret)`,
      );
    }
    return [assignment];
  });
}

/** The assignments of one `config set`, from its words, stdin and a file, in that order: a key's last value wins. */
export function mergeAssignments(...lists: Array<Array<[string, string]>>): Array<[string, string]> {
  const merged = new Map(lists.flat());
  if (merged.size === 0) throw new ConfigError("config set needs at least one KEY=VALUE");
  return [...merged];
}

function splitAssignment(text: string): [string, string] | null {
  const separator = text.indexOf("=");
  return separator < 0 ? null : [text.slice(0, separator), text.slice(separator + 1)];
}

export function assertEnvKey(key: string): void {
  if (!envKeyPattern.test(key)) throw new ConfigError(`"${key}" is not a variable name (letters, digits and _, not starting with a digit)`);
}

export interface EnvChange {
  set?: Array<[string, string]>;
  unset?: string[];
}

/**
 * Change `env` in etc/sarge.yaml through the yaml document API, so comments,
 * order and formatting elsewhere stay as the user wrote them. The result is
 * validated before it replaces the file (atomically, mode 0600). Returns the
 * keys whose value actually changed.
 */
export function editEnv(paths: HomePaths, change: EnvChange): { changed: string[]; config: SargeConfig } {
  const text = readFileSync(paths.config, "utf8");
  const before = parseConfig(text, paths.config, paths.root);
  const document = parseDocument(text);
  if (!isMap(document.get("env"))) document.set("env", document.createNode({}));
  const changed: string[] = [];
  for (const [key, value] of change.set ?? []) {
    if (before.env[key] !== value) changed.push(key);
    document.setIn(["env", key], value);
  }
  for (const key of change.unset ?? []) {
    assertEnvKey(key);
    if (!Object.hasOwn(before.env, key)) throw new ConfigError(`${key} is not set in ${paths.config}`);
    changed.push(key);
    document.deleteIn(["env", key]);
  }
  const next = document.toString({ flowCollectionPadding: false });
  const config = parseConfig(next, paths.config, paths.root);
  if (changed.length > 0) writeFileAtomic(paths.config, next, 0o600);
  return { changed, config };
}

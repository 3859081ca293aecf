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
  if (words.length === 0) throw new ConfigError("config set needs at least one KEY=VALUE");
  return words.map((word) => {
    const separator = word.indexOf("=");
    const key = separator < 0 ? word : word.slice(0, separator);
    if (separator < 0) throw new ConfigError(`"${word}" is not KEY=VALUE`);
    assertEnvKey(key);
    return [key, word.slice(separator + 1)];
  });
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

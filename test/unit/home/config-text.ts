import { expect } from "vitest";
import { parseConfig } from "../../../src/home/config.js";
import type { SargeConfig } from "../../../src/home/config-types.js";
import { ConfigError } from "../../../src/util/errors.js";

/** etc/sarge.yaml of a home at /srv/app, for the config unit tests. */
export const configFile = "/srv/app/etc/sarge.yaml";
export const minimalConfig = "port_range: [5010, 5099]\nport_map:\n  web: 127.0.0.1:5000\n";

export function parseConfigText(text: string): SargeConfig {
  return parseConfig(text, configFile, "/srv/app");
}

/** The ConfigError (exit code 2) a config text is refused with. */
export function configRefusal(text: string): ConfigError {
  try {
    parseConfigText(text);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).exitCode).toBe(2);
    return caught as ConfigError;
  }
  throw new Error("config was accepted");
}

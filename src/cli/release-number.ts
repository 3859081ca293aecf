import { ConfigError } from "../util/errors.js";

/** A `<release>` argument: the number `sarge list` and `sarge history` show. */
export function parseReleaseNumber(text: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new ConfigError(`<release>: expected a release number like 7 (see sarge list), got "${text}"`);
  return Number(text);
}

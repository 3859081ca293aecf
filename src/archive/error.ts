import { SargeError } from "../util/errors.js";

/** An uploaded archive was refused or could not be unpacked. The message names the entry when there is one. */
export class ArchiveError extends SargeError {}

const SHOWN_NAME_CHARS = 200;

/**
 * An entry name as shown in a message: JSON-quoted (so control characters and
 * terminal escapes in a hostile name are shown escaped, never interpreted) and
 * shortened when very long.
 */
export function quoteName(name: string): string {
  if (name.length <= SHOWN_NAME_CHARS) return JSON.stringify(name);
  return `${JSON.stringify(name.slice(0, SHOWN_NAME_CHARS))}… (${name.length} characters)`;
}

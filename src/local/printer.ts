import { splitlines } from "../util/splitlines.js";
import { clockTime } from "./log.js";

/** The name system lines are printed under. */
export const SYSTEM = "system";

/** honcho's colour cycle, assigned in process start order. */
export const COLOURS = ["36", "33", "32", "35", "31", "34", "36;1", "33;1", "32;1", "35;1", "31;1", "34;1"];

export function colourFor(index: number): string {
  return COLOURS[index % COLOURS.length]!;
}

export interface PrinterOptions {
  /** Write one finished chunk of output (already ends in "\n"). */
  write: (text: string) => void;
  /** Prefix lines with the time and the padded name (`--no-prefix` turns it off). */
  prefix: boolean;
  /** Colour the prefix: only on a TTY and without `--no-colour`. */
  colour: boolean;
  /** The padding width: max(6, longest process name). */
  width: number;
}

/**
 * honcho's Printer: every line (Python splitlines) becomes
 * `HH:MM:SS <name padded> | <line>`, the prefix optionally coloured as
 * `ESC[0m ESC[<c>m <prefix> ESC[0m`.
 */
export class Printer {
  constructor(private readonly options: PrinterOptions) {}

  /** Print `text` (one line as read, or a system message) for `name` at `time`. */
  write(name: string, text: string, time: Date, colour?: string): void {
    let out = "";
    let prefix = "";
    if (this.options.prefix) {
      prefix = `${clockTime(time)} ${name.padEnd(this.options.width)} | `;
      if (this.options.colour && colour) prefix = `\x1b[0m\x1b[${colour}m${prefix}\x1b[0m`;
    }
    for (const line of splitlines(text)) out += prefix + line + "\n";
    if (out) this.options.write(out);
  }

  system(message: string): void {
    this.write(SYSTEM, message, new Date());
  }
}

/**
 * A requirements file read line by line exactly as pip 23 reads it (pip/_internal/req/req_file.py):
 * Python's splitlines, "\" joins, comments, ${VAR} expansion, then the options of each line through
 * optparse, which accepts every unambiguous prefix of a long option. A check that reads the file
 * any other way lets through what pip would act on (`--find-link URL`, `--edit git+URL`).
 */
import { splitlines } from "../util/splitlines.js";

export interface PipLine {
  number: number;
  /** The requirement before the first "-" token; "" on an option-only line. */
  args: string;
  /** The text the options are parsed from. */
  options: string;
}

export interface PipOption {
  /** The option's full long name, whatever the line wrote: "--find-links" for "-f" or "--find". */
  name: string;
  /** As written: "-f", "--find". */
  written: string;
  value: string | null;
}

/** pip's requirements-file option parser, as `build_parser()` assembles it. */
const LONG_OPTIONS: Record<string, { short?: string; takesValue: boolean; alias?: string }> = {
  "--index-url": { short: "-i", takesValue: true },
  "--pypi-url": { takesValue: true, alias: "--index-url" },
  "--extra-index-url": { takesValue: true },
  "--no-index": { takesValue: false },
  "--constraint": { short: "-c", takesValue: true },
  "--requirement": { short: "-r", takesValue: true },
  "--editable": { short: "-e", takesValue: true },
  "--find-links": { short: "-f", takesValue: true },
  "--no-binary": { takesValue: true },
  "--only-binary": { takesValue: true },
  "--prefer-binary": { takesValue: false },
  "--require-hashes": { takesValue: false },
  "--pre": { takesValue: false },
  "--trusted-host": { takesValue: true },
  "--use-feature": { takesValue: true },
  "--global-option": { takesValue: true },
  "--hash": { takesValue: true },
  "--config-settings": { short: "-C", takesValue: true },
};
const SHORT_OPTIONS = new Map(
  Object.entries(LONG_OPTIONS).flatMap(([name, option]) => (option.short ? [[option.short, name] as const] : [])),
);

const COMMENT = /(^|\s+)#.*$/;
const ENV_VAR = /\$\{([A-Z0-9_]+)\}/g;

/** Why pip would refuse a line's options; the message is optparse's. */
export class PipOptionError extends Error {}

/** pip's preprocess(): the logical lines, numbered by their first physical line. */
export function* pipLines(text: string, env: Record<string, string | undefined>): Generator<PipLine> {
  for (const { number, line } of ignoreComments(joinLines(splitlines(text)))) {
    const expanded = line.replace(ENV_VAR, (whole, name: string) => env[name] || whole);
    yield { number, ...breakArgsOptions(expanded) };
  }
}

function* joinLines(lines: string[]): Generator<{ number: number; line: string }> {
  let joined: string[] = [];
  let first = 0;
  for (const [index, line] of lines.entries()) {
    const isComment = /^\s*#/.test(line);
    if (!line.endsWith("\\") || isComment) {
      const whole = isComment ? " " + line : line;
      if (joined.length > 0) {
        yield { number: first, line: joined.join("") + whole };
        joined = [];
      } else {
        yield { number: index + 1, line: whole };
      }
    } else {
      if (joined.length === 0) first = index + 1;
      joined.push(line.replace(/^\\+|\\+$/g, ""));
    }
  }
  if (joined.length > 0) yield { number: first, line: joined.join("") };
}

function* ignoreComments(lines: Iterable<{ number: number; line: string }>): Generator<{ number: number; line: string }> {
  for (const { number, line } of lines) {
    const stripped = pythonStrip(line.replace(COMMENT, ""));
    if (stripped !== "") yield { number, line: stripped };
  }
}

/** Python's str.strip(): whitespace includes the line boundaries splitlines already removed. */
function pythonStrip(text: string): string {
  return text.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, "");
}

function breakArgsOptions(line: string): { args: string; options: string } {
  const tokens = line.split(" ");
  const start = tokens.findIndex((token) => token.startsWith("-"));
  if (start < 0) return { args: line, options: "" };
  return { args: tokens.slice(0, start).join(" "), options: tokens.slice(start).join(" ") };
}

/** `parser.parse_args(shlex.split(options))`: the options pip acts on, in order. Throws PipOptionError. */
export function parsePipOptions(text: string): PipOption[] {
  const rest = shlexSplit(text);
  const parsed: PipOption[] = [];
  const takeValue = (written: string): string => {
    if (rest.length === 0) throw new PipOptionError(`${written} option requires 1 argument`);
    return rest.shift()!;
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") break;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=");
      const written = equals < 0 ? arg : arg.slice(0, equals);
      const long = matchLong(written);
      const option = LONG_OPTIONS[long]!;
      if (equals >= 0) rest.unshift(arg.slice(equals + 1));
      if (!option.takesValue && equals >= 0) throw new PipOptionError(`${long} option does not take a value`);
      parsed.push({ name: option.alias ?? long, written, value: option.takesValue ? takeValue(long) : null });
    } else if (arg.startsWith("-") && arg.length > 1) {
      // pip's short options all take a value: "-rfile" or "-r file"
      const written = arg.slice(0, 2);
      const name = SHORT_OPTIONS.get(written);
      if (!name) throw new PipOptionError(`no such option: ${written}`);
      if (arg.length > 2) rest.unshift(arg.slice(2));
      parsed.push({ name, written, value: takeValue(written) });
    }
  }
  return parsed;
}

/** optparse's _match_abbrev: an exact name, else the one long option the text begins. */
function matchLong(text: string): string {
  if (text in LONG_OPTIONS) return text;
  const candidates = Object.keys(LONG_OPTIONS)
    .filter((name) => name.startsWith(text))
    .sort();
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) throw new PipOptionError(`no such option: ${text}`);
  throw new PipOptionError(`ambiguous option: ${text} (${candidates.join(", ")}?)`);
}

/**
 * Python's shlex.split (POSIX, whitespace-split, no comments). Written out because the npm ports
 * add bash's $'...' quoting, which Python does not have.
 */
function shlexSplit(text: string): string[] {
  const tokens: string[] = [];
  let token = "";
  let inToken = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === "'") {
      if (char === "'") quote = null;
      else token += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\")) token += text[++i]!;
      else token += char;
    } else if (" \t\r\n".includes(char)) {
      if (inToken) tokens.push(token);
      token = "";
      inToken = false;
    } else {
      inToken = true;
      if (char === "'" || char === '"') quote = char;
      else if (char !== "\\") token += char;
      else if (i + 1 < text.length) token += text[++i]!;
      else throw new PipOptionError("Could not split options: no escaped character");
    }
  }
  if (quote !== null) throw new PipOptionError("Could not split options: no closing quotation");
  if (inToken) tokens.push(token);
  return tokens;
}

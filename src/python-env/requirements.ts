/**
 * Reading requirements.txt the way pip does, to check it against dist/ before pip runs and to
 * refuse what would make pip install from anywhere but dist/.
 */
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { normalizeName, parseSpecifiers, type Specifier } from "./versions.js";

export interface Requirement {
  /** As written, without comments or per-requirement options: "Flask[async]>=3.0". */
  text: string;
  name: string;
  /** PEP 503 normalised name. */
  key: string;
  /** null when the specifier text could not be parsed (pip will judge it). */
  specifiers: Specifier[] | null;
  /** The environment marker after ";", if any. */
  marker: string | null;
  /** "requirements.txt:3" */
  where: string;
  /** From a -c constraints file: limits versions, is not itself installed. */
  constraint: boolean;
}

export interface RequirementsFile {
  /** Relative to the app folder when inside it. */
  name: string;
  bytes: Buffer;
}

export interface ParsedRequirements {
  requirements: Requirement[];
  /** Lines sarge refuses: they would install from somewhere other than dist/. */
  problems: string[];
  /** Every file read (requirements.txt first, then -r/-c includes), for the environment key. */
  files: RequirementsFile[];
}

const urlPattern = /^[a-z][a-z0-9+.-]*:\/\//i;
const archivePattern = /\.(whl|zip|tar|tgz|tar\.gz|tbz|tar\.bz2|txz|tar\.xz)$/i;
const namePattern = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$/s;

export async function readRequirements(file: string, appDir: string): Promise<ParsedRequirements> {
  const result: ParsedRequirements = { requirements: [], problems: [], files: [] };
  await readInto(resolve(file), appDir, false, result, new Set());
  return result;
}

async function readInto(
  file: string,
  appDir: string,
  constraint: boolean,
  result: ParsedRequirements,
  seen: Set<string>,
): Promise<void> {
  const name = displayName(file, appDir);
  if (seen.has(file)) return;
  seen.add(file);
  const bytes = await readFile(file);
  result.files.push({ name, bytes });

  for (const { line, number } of logicalLines(bytes.toString("utf8").replace(/^\uFEFF/, ""))) {
    const where = `${name}:${number}`;
    if (line.startsWith("-")) {
      const option = splitOption(line);
      switch (option.name) {
        case "-r":
        case "--requirement":
        case "-c":
        case "--constraint": {
          if (!option.value) {
            result.problems.push(`${where}: ${option.name} needs a file name`);
          } else if (urlPattern.test(option.value)) {
            result.problems.push(`${where}: ${option.name} ${option.value} is a URL; sarge reads only local files`);
          } else {
            const included = resolve(dirname(file), option.value);
            const isConstraint = constraint || option.name === "-c" || option.name === "--constraint";
            try {
              await readInto(included, appDir, isConstraint, result, seen);
            } catch (error) {
              result.problems.push(`${where}: cannot read ${option.value} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
            }
          }
          break;
        }
        case "-e":
        case "--editable":
          result.problems.push(`${where}: editable installs (${line}) do not come from dist; build a wheel with \`sarge wheel\` and require it by name`);
          break;
        case "-f":
        case "--find-links":
          result.problems.push(`${where}: ${option.name} is not allowed; sarge installs only from its dist folder`);
          break;
        default:
          // --index-url / --extra-index-url / --no-index / --trusted-host are inert under --no-index;
          // --pre, --prefer-binary, --only-binary, --require-hashes... are pip's business.
          break;
      }
      continue;
    }

    const text = stripOptions(line);
    const parsed = parseRequirement(text);
    if (parsed === "reference") {
      result.problems.push(
        `${where}: ${text} is a path or URL, not a name; sarge installs only from its dist folder: put the wheel there (\`sarge wheel\`) and require it by name`,
      );
      continue;
    }
    if (parsed === null) {
      result.problems.push(`${where}: cannot read requirement "${text}"`);
      continue;
    }
    result.requirements.push({ ...parsed, text, where, constraint });
  }
}

function displayName(file: string, appDir: string): string {
  const rel = relative(resolve(appDir), file);
  return rel.startsWith("..") ? file : rel;
}

/** pip's line handling: join "\" continuations, drop comments (# at start or after a space), skip blanks. */
function* logicalLines(text: string): Generator<{ line: string; number: number }> {
  const raw = text.split(/\r?\n/);
  let buffer = "";
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const line = raw[i]!;
    if (buffer === "") start = i + 1;
    if (line.endsWith("\\") && !/(^|\s)#/.test(line)) {
      buffer += line.slice(0, -1);
      continue;
    }
    const joined = (buffer + line).replace(/(^|\s+)#.*$/, "").trim();
    buffer = "";
    if (joined !== "") yield { line: joined, number: start };
  }
  const rest = buffer.replace(/(^|\s+)#.*$/, "").trim();
  if (rest !== "") yield { line: rest, number: start };
}

function splitOption(line: string): { name: string; value: string } {
  const long = /^(--[a-z-]+)(?:=|\s+)?(.*)$/i.exec(line);
  if (long) return { name: long[1]!, value: long[2]!.trim() };
  // short option, value attached ("-rfile") or separated ("-r file")
  return { name: line.slice(0, 2), value: line.slice(2).trim() };
}

/** Drop per-requirement options (--hash=..., --config-settings ...): they start at the first " -" token. */
function stripOptions(line: string): string {
  const tokens = line.split(/\s+/);
  const index = tokens.findIndex((token, i) => i > 0 && token.startsWith("-"));
  return (index < 0 ? tokens : tokens.slice(0, index)).join(" ");
}

/** PEP 508, leniently: name, extras, specifiers or "(specifiers)", "; marker". "reference" for paths/URLs. */
export function parseRequirement(
  text: string,
): { name: string; key: string; specifiers: Specifier[] | null; marker: string | null } | "reference" | null {
  const beforeMarker = text.split(";")[0]!;
  if (urlPattern.test(text) || /[/\\]/.test(beforeMarker.split("@")[0]!) || archivePattern.test(beforeMarker.trim()) || text.startsWith(".")) {
    return "reference";
  }
  const m = namePattern.exec(text);
  if (!m) return null;
  let rest = m[3]!.trim();
  if (rest.startsWith("@")) return "reference";
  let marker: string | null = null;
  const semicolon = rest.indexOf(";");
  if (semicolon >= 0) {
    marker = rest.slice(semicolon + 1).trim() || null;
    rest = rest.slice(0, semicolon).trim();
  }
  if (rest.startsWith("(") && rest.endsWith(")")) rest = rest.slice(1, -1);
  return { name: m[1]!, key: normalizeName(m[1]!), specifiers: parseSpecifiers(rest), marker };
}

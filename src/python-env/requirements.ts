/**
 * Reading requirements.txt the way pip does, to check it against dist/ before pip runs and to
 * refuse what would make pip install from anywhere but dist/.
 */
import { readFile, realpath } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { childEnvironment } from "./child-env.js";
import { parsePipOptions, pipLines, PipOptionError, type PipOption } from "./pip-line.js";
import { normalizeName, parseSpecifiers, type Specifier } from "./versions.js";

export interface Requirement {
  /** As written, without comments or per-requirement options: "Flask[async]>=3.0". */
  text: string;
  name: string;
  /** PEP 503 normalised name. */
  key: string;
  /** null when the specifier text could not be parsed (pip will judge it). */
  specifiers: Specifier[] | null;
  /** The extras asked for, normalised: "Flask[async]" → ["async"]. */
  extras: string[];
  /** The environment marker after ";", if any. */
  marker: string | null;
  /** "requirements.txt:3" */
  where: string;
  /** From a -c constraints file: limits versions, is not itself installed. */
  constraint: boolean;
  /** The line's --hash values as written ("sha256:<hex>"); empty when it has none. */
  hashes: string[];
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

const pipUrlPattern = /^(http|https|file):/i;

export async function readRequirements(file: string, appDir: string): Promise<ParsedRequirements> {
  const result: ParsedRequirements = { requirements: [], problems: [], files: [] };
  const app = await realpath(appDir);
  const inside = await insideApp(resolve(file), app);
  if (inside === null) result.problems.push(`${relative(app, resolve(file))}: ${outsideApp}`);
  else await readInto(inside, app, false, result, new Set());
  return result;
}

const outsideApp = "outside the app folder; sarge reads requirement files only from inside it";

/** The file's real path when it is inside the app folder (links followed), else null. */
async function insideApp(file: string, app: string): Promise<string | null> {
  const within = (path: string) => !relative(app, path).startsWith("..") && !isAbsolute(relative(app, path));
  if (!within(file)) return null;
  const real = await realpath(file).catch(() => file);
  return within(real) ? real : null;
}

async function readInto(file: string, app: string, constraint: boolean, result: ParsedRequirements, seen: Set<string>): Promise<void> {
  const name = relative(app, file);
  if (seen.has(file)) return;
  seen.add(file);
  const bytes = await readFile(file);
  result.files.push({ name, bytes });

  // pip expands ${VAR} from the environment it runs in
  const env = childEnvironment({ pip: true });
  for (const line of pipLines(bytes.toString("utf8").replace(/^\uFEFF/, ""), env)) {
    const where = `${name}:${line.number}`;
    let options: PipOption[];
    try {
      options = parsePipOptions(line.options);
    } catch (error) {
      if (!(error instanceof PipOptionError)) throw error;
      result.problems.push(`${where}: pip cannot read this line: ${error.message}`);
      continue;
    }
    if (line.args === "") {
      for (const option of options) await checkOption(option, { file, app, constraint, result, seen, where });
    } else {
      // on a requirement line pip acts only on the per-requirement options (--hash, -C...)
      const hashes = options.filter((option) => option.name === "--hash").map((option) => option.value!);
      readRequirement(line.args.trim(), where, constraint, hashes, result);
    }
  }
}

async function checkOption(
  option: PipOption,
  line: { file: string; app: string; constraint: boolean; result: ParsedRequirements; seen: Set<string>; where: string },
): Promise<void> {
  const { result, where } = line;
  const abbreviated = option.written.startsWith("--") && option.written !== option.name;
  const written = abbreviated ? `${option.written} (pip reads ${option.name})` : option.written;
  switch (option.name) {
    case "--requirement":
    case "--constraint": {
      const value = option.value!;
      if (pipUrlPattern.test(value) || urlPattern.test(value)) {
        result.problems.push(`${where}: ${written} ${value} is a URL; sarge reads only local files`);
        return;
      }
      const included = await insideApp(resolve(dirname(line.file), value), line.app);
      if (included === null) {
        result.problems.push(`${where}: ${written} ${value}: ${outsideApp}`);
        return;
      }
      try {
        await readInto(included, line.app, line.constraint || option.name === "--constraint", result, line.seen);
      } catch (error) {
        result.problems.push(`${where}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
      return;
    }
    case "--editable":
      result.problems.push(
        `${where}: editable installs (${written} ${option.value}) do not come from dist; build a wheel with \`sarge wheel\` and require it by name`,
      );
      return;
    case "--find-links":
      result.problems.push(`${where}: ${written} is not allowed; sarge installs only from its dist folder`);
      return;
    default:
      // index options are inert: pip runs with --no-index as the last line it reads, and without a
      // network; --pre, --prefer-binary, --only-binary, --require-hashes... are pip's business.
      return;
  }
}

function readRequirement(text: string, where: string, constraint: boolean, hashes: string[], result: ParsedRequirements): void {
  const parsed = parseRequirement(text);
  if (parsed === "reference") {
    result.problems.push(
      `${where}: ${text} is a path or URL, not a name; sarge installs only from its dist folder: put the wheel there (\`sarge wheel\`) and require it by name`,
    );
  } else if (parsed === null) {
    result.problems.push(`${where}: cannot read requirement "${text}"`);
  } else {
    result.requirements.push({ ...parsed, text, where, constraint, hashes });
  }
}

/** PEP 508, leniently: name, extras, specifiers or "(specifiers)", "; marker". "reference" for paths/URLs. */
export function parseRequirement(
  text: string,
): { name: string; key: string; extras: string[]; specifiers: Specifier[] | null; marker: string | null } | "reference" | null {
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
  const extras = (m[2] ?? "").slice(1, -1).split(",").map((extra) => extra.trim()).filter(Boolean).map(normalizeName);
  return { name: m[1]!, key: normalizeName(m[1]!), extras, specifiers: parseSpecifiers(rest), marker };
}

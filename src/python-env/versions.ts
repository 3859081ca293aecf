/**
 * Package names and versions, enough to check requirements against dist/ before pip runs.
 *
 * Names: PEP 503 normalisation. Versions: PEP 440 parsing and ordering. Specifier matching is
 * deliberately lenient (pre-/post-release exclusions and local labels are not applied), so a
 * requirement it rejects is one pip would reject too; anything it cannot parse counts as
 * "maybe", and pip decides.
 */

/** PEP 503: "Flask_SQLAlchemy" and "flask.sqlalchemy" are both "flask-sqlalchemy". */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}

export interface Version {
  epoch: number;
  release: number[];
  /** [rank, number]: a=0, b=1, rc=2; null when not a pre-release. */
  pre: [number, number] | null;
  post: number | null;
  dev: number | null;
  local: string | null;
}

const versionPattern =
  /^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

export function parseVersion(text: string): Version | null {
  const m = versionPattern.exec(text);
  if (!m) return null;
  const preLabel = m[3]?.toLowerCase();
  const preRank = preLabel === undefined ? -1 : preLabel.startsWith("a") ? 0 : preLabel.startsWith("b") ? 1 : 2;
  const hasPost = m[5] !== undefined || m[6] !== undefined;
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split(".").map(Number),
    pre: preRank < 0 ? null : [preRank, Number(m[4] ?? 0)],
    post: hasPost ? Number(m[5] ?? m[7] ?? 0) : null,
    dev: m[8] !== undefined ? Number(m[9] ?? 0) : null,
    local: m[10]?.toLowerCase() ?? null,
  };
}

function compareNumbers(a: number[], b: number[]): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** PEP 440 order, ignoring local labels. */
export function compareVersions(a: Version, b: Version): number {
  return (
    compareNumbers([a.epoch], [b.epoch]) ||
    compareNumbers(a.release, b.release) ||
    compareNumbers(preKey(a), preKey(b)) ||
    compareNumbers([a.post ?? -1], [b.post ?? -1]) ||
    compareNumbers([a.dev ?? Infinity], [b.dev ?? Infinity])
  );
}

/** 1.0.dev1 < 1.0a1 < 1.0 : a dev release with no pre-release sorts before every pre-release. */
function preKey(v: Version): number[] {
  if (v.pre) return v.pre;
  if (v.dev !== null && v.post === null) return [-1, 0];
  return [Infinity, 0];
}

export interface Specifier {
  op: string;
  version: string;
}

/** "==1.0, >=2" → specifiers; null when the text is not a specifier list. */
export function parseSpecifiers(text: string): Specifier[] | null {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const result: Specifier[] = [];
  for (const part of trimmed.split(",")) {
    const m = /^\s*(===|~=|==|!=|<=|>=|<|>)\s*([^\s,;]+)\s*$/.exec(part);
    if (!m) return null;
    result.push({ op: m[1]!, version: m[2]! });
  }
  return result;
}

/** true / false when sure, null when a version or specifier could not be understood. */
export function satisfies(versionText: string, specifiers: Specifier[]): boolean | null {
  const version = parseVersion(versionText);
  let unsure = false;
  for (const spec of specifiers) {
    const verdict = version ? matchOne(version, versionText, spec) : null;
    if (verdict === false) return false;
    if (verdict === null) unsure = true;
  }
  return unsure ? null : true;
}

function matchOne(version: Version, versionText: string, spec: Specifier): boolean | null {
  if (spec.op === "===") return versionText.trim().toLowerCase() === spec.version.toLowerCase();
  if ((spec.op === "==" || spec.op === "!=") && spec.version.endsWith(".*")) {
    const prefix = parseVersion(spec.version.slice(0, -2));
    if (!prefix) return null;
    const matches =
      version.epoch === prefix.epoch && compareNumbers(version.release.slice(0, prefix.release.length), prefix.release) === 0;
    return spec.op === "==" ? matches : !matches;
  }
  const target = parseVersion(spec.version);
  if (!target) return null;
  const order = compareVersions(version, target);
  const equal = order === 0 && (target.local === null || target.local === version.local);
  switch (spec.op) {
    case "==":
      return equal;
    case "!=":
      return !equal;
    case ">=":
      return order >= 0;
    case "<=":
      return order <= 0;
    case ">":
      return order > 0;
    case "<":
      return order < 0;
    case "~=": {
      if (target.release.length < 2) return null;
      const prefix = target.release.slice(0, -1);
      return order >= 0 && version.epoch === target.epoch && compareNumbers(version.release.slice(0, prefix.length), prefix) === 0;
    }
    default:
      return null;
  }
}

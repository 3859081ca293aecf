/**
 * PEP 508 environment markers, evaluated only as far as sarge knows the answer: the `extra`,
 * `extras` and `dependency_groups` variables (a wheel's Requires-Dist, PEP 751's pylock.toml),
 * which pip 23's marker evaluator does not have. What depends on the machine (python_version,
 * sys_platform...) is left as marker text for pip, which runs there.
 */
import { normalizeName } from "./versions.js";

/** What sarge knows: the extras asked for, the dependency groups to install. */
export interface KnownMarkerValues {
  extras: ReadonlySet<string>;
  dependencyGroups: ReadonlySet<string>;
}

/** true or false when the known values decide it; else the rest of the marker, for pip. */
export type MarkerOutcome = boolean | string;

type Token = { kind: "string" | "name" | "op" | "("  | ")" | "and" | "or"; text: string };
type Node = { kind: "compare"; left: Token; op: string; right: Token } | { kind: "and" | "or"; items: Node[] };

export class MarkerError extends Error {}

const TOKEN = /\s*(?:('[^']*'|"[^"]*")|(<=|>=|==|!=|~=|===|<|>)|(not\s+in\b)|([A-Za-z_][A-Za-z0-9_.]*)|(\()|(\)))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw new MarkerError(`cannot read the marker "${text}" at "${text.slice(start).trim()}"`);
    if (m[1]) tokens.push({ kind: "string", text: m[1] });
    else if (m[2]) tokens.push({ kind: "op", text: m[2] });
    else if (m[3]) tokens.push({ kind: "op", text: "not in" });
    else if (m[4] === "and" || m[4] === "or") tokens.push({ kind: m[4], text: m[4] });
    else if (m[4] === "in") tokens.push({ kind: "op", text: "in" });
    else if (m[4]) tokens.push({ kind: "name", text: m[4] });
    else tokens.push({ kind: m[5] ? "(" : ")", text: m[5] ?? ")" });
  }
  return tokens;
}

function parse(text: string): Node {
  const tokens = tokenize(text);
  let at = 0;
  const fail = (): never => {
    throw new MarkerError(`cannot read the marker "${text}"`);
  };
  const list = (kind: "and" | "or", item: () => Node): Node => {
    const items = [item()];
    while (tokens[at]?.kind === kind) {
      at++;
      items.push(item());
    }
    return items.length === 1 ? items[0]! : { kind, items };
  };
  const or = (): Node => list("or", () => list("and", atom));
  const atom = (): Node => {
    if (tokens[at]?.kind === "(") {
      at++;
      const inner = or();
      if (tokens[at++]?.kind !== ")") fail();
      return inner;
    }
    const [left, op, right] = [tokens[at], tokens[at + 1], tokens[at + 2]];
    const operand = (token: Token | undefined) => token?.kind === "string" || token?.kind === "name";
    if (!operand(left) || op?.kind !== "op" || !operand(right)) fail();
    at += 3;
    return { kind: "compare", left: left!, op: op!.text, right: right! };
  };
  const node = or();
  if (at !== tokens.length) fail();
  return node;
}

const unquote = (token: Token) => token.text.slice(1, -1);

function decide(node: Extract<Node, { kind: "compare" }>, known: KnownMarkerValues): MarkerOutcome {
  const { left, op, right } = node;
  const sets: Record<string, ReadonlySet<string>> = { extras: known.extras, dependency_groups: known.dependencyGroups };
  if (right.kind === "name" && right.text in sets && left.kind === "string" && (op === "in" || op === "not in")) {
    const member = sets[right.text]!.has(normalizeName(unquote(left)));
    return op === "in" ? member : !member;
  }
  const [variable, value] = left.kind === "name" ? [left, right] : [right, left];
  if (variable.kind === "name" && variable.text === "extra" && value.kind === "string" && (op === "==" || op === "!=")) {
    const member = known.extras.has(normalizeName(unquote(value)));
    return op === "==" ? member : !member;
  }
  return `${left.text} ${op} ${right.text}`;
}

function evaluateNode(node: Node, known: KnownMarkerValues): MarkerOutcome {
  if (node.kind === "compare") return decide(node, known);
  const outcomes = node.items.map((item) => evaluateNode(item, known));
  const [absorbing, neutral] = node.kind === "and" ? [false, true] : [true, false];
  if (outcomes.includes(absorbing)) return absorbing;
  const rest = outcomes.filter((outcome): outcome is string => outcome !== neutral);
  if (rest.length === 0) return neutral;
  return rest.length === 1 ? rest[0]! : rest.map((text) => `(${text})`).join(` ${node.kind} `);
}

/** Throws MarkerError for text that is not a marker. */
export function evaluateMarker(marker: string, known: KnownMarkerValues): MarkerOutcome {
  return evaluateNode(parse(marker), known);
}

export const NO_EXTRAS: KnownMarkerValues = { extras: new Set(), dependencyGroups: new Set() };

/** Small pieces of Python semantics that honcho's observable behaviour depends on. */

const PY_WHITESPACE = /^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu;

/** Python `int(text)` for base 10: surrounding whitespace, a sign, digits with single underscores. */
export function pythonInt(text: string): number | undefined {
  const stripped = text.replace(PY_WHITESPACE, "");
  if (!/^[+-]?\d+(?:_\d+)*$/.test(stripped)) return undefined;
  const value = Number(stripped.replaceAll("_", ""));
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Python `repr()` of a str, as used in `%r` messages. */
export function pythonRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + quote;
}

/** Python `shlex.quote`: safe strings as is, else single-quoted with `'"'"'` for each quote. */
export function shellQuote(value: string): string {
  if (value === "") return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return "'" + value.replaceAll("'", `'"'"'`) + "'";
}

/** Python `os.path.join(a, b)` for two parts: an absolute `b` discards `a`. */
export function pathJoin(a: string, b: string): string {
  if (b.startsWith("/")) return b;
  if (a === "" || a.endsWith("/")) return a + b;
  return `${a}/${b}`;
}

/**
 * Python's `str.splitlines()`: every line boundary Python knows ends a line,
 * `\r\n` counts once, and a trailing boundary does not produce an empty last line.
 */
const LINE_BOUNDARY = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;

export function splitlines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(LINE_BOUNDARY);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

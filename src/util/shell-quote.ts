/** Quote a word for a POSIX shell: as is when it holds only safe characters, else in single quotes (each ' as '\''). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Order two strings by code point, for sort(). Not localeCompare: its first
 * call loads ICU's collation data, ~10-40 ms of CPU, which `sarge list` and
 * every deploy paid to sort timestamps and process type names.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `sarge config list --json` and GET /api/v1/config: name → value, every value null unless shown (they may be secrets). */
export function envView(env: Record<string, string>, withValues: boolean): Record<string, string | null> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, withValues ? value : null]));
}

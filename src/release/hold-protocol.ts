/**
 * What a fleet push sends the `sarge hold` of each host (held-requests.ts
 * runs it there, src/push/ssh-session.ts sends it): one JSON request a line
 * on its stdin, one reply a line on its stdout, `ok <JSON result>` or
 * `failed <JSON message>`.
 */
export type HeldRequest = { command: "list" } | { command: "activate"; release: number } | { command: "verify"; procs: string[]; forMs: number; passes: number };

/** Said after `held <token>`: the requests this hold runs; an older sarge says nothing, and is sent separate commands. */
export const HELD_COMMANDS = "runs list activate verify";

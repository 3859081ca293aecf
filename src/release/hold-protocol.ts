/**
 * What a fleet push sends the `sarge hold` of each host (held-requests.ts
 * runs it there, src/push/ssh-session.ts sends it): one JSON request a line
 * on its stdin, one reply a line on its stdout, `ok <JSON result>` or
 * `failed <JSON message>`, in the order of the requests.
 *
 * An activate request with `switched: true` is answered `switched <JSON>` in
 * its turn once every switch is done, and the hold runs the next requests
 * (the push's verify) while the activation retires and records; its final
 * answer comes when it ends, whatever was asked since, as `activated ok
 * <JSON result>` or `activated failed <JSON message>`. An activation that
 * fails before its switch answers `failed` in its turn. A hold that does not
 * know `switched` (older) ignores it and answers once, in turn.
 *
 * With `prepare: true` as well (only to a hold that says HELD_PREPARES), the
 * activation stops before its switch and says `prepared {}` out of turn; the
 * line `go` lets it switch, `abort` cancels it (answered `failed "activate
 * cancelled at switch"` in its turn, the staged release left staged). Either
 * may come before `prepared`.
 */
export type HeldRequest =
  | { command: "list" }
  | { command: "activate"; release: number; switched?: boolean; prepare?: boolean }
  | { command: "verify"; procs: string[]; forMs: number; passes: number };

/** Said after `held <token>`: the requests this hold runs; an older sarge says nothing, and is sent separate commands. */
export const HELD_COMMANDS = "runs list activate verify";

/** Said between the token and HELD_COMMANDS (where an older push does not look) by a hold whose activation can wait for `go`. */
export const HELD_PREPARES = "prepares";

/** In its turn: the activation's switch is done; its final answer comes later, after ACTIVATED. */
export const SWITCHED = "switched";

/** Out of turn: the prepared activation waits for `go` or `abort`. */
export const PREPARED = "prepared";

/** The word before an early-answered activation's final answer. */
export const ACTIVATED = "activated";

import { SargeError } from "../util/errors.js";

/**
 * A `sarge local` failure that honcho reports as a CommandError: logged as
 * `... [ERROR] <message>` on stderr, exit 1, nothing started.
 */
export class LocalError extends SargeError {}

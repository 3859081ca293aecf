import { userInfo } from "node:os";

/**
 * Who runs this command, as history and the locks name them: $SARGE_ACTOR
 * when `sarge serve` runs it for a token (the token's name), else the login
 * behind sudo, else the user.
 */
export function currentUser(): string {
  return process.env.SARGE_ACTOR || process.env.SUDO_USER || process.env.USER || process.env.LOGNAME || userInfo().username;
}

import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home folder (made by useradd). */
  home: string;
}

/**
 * A system user of this machine, created with useradd when it is missing:
 * tests that need users of their own (each fleet host's, test/support/fleet.ts)
 * run as root, here and in CI on a fresh machine, so they make what they need
 * and never depend on a previous run. Two test processes may create the same
 * user at once: the loser of useradd's race finds it made. Its password is
 * `*` (no password login), not useradd's `!`: sshd without PAM refuses even
 * key logins to an account locked with `!`.
 */
export async function ensureUser(name: string): Promise<SystemUser> {
  for (let attempt = 0; ; attempt++) {
    const found = lookUp(name);
    if (found && !locked(name)) return found;
    if (process.getuid?.() !== 0) throw new Error(`the user ${name} is missing or locked and only root can make it: run the tests as root (as CI does)`);
    try {
      if (found) execFileSync("usermod", ["--password", "*", name], { stdio: "pipe" });
      else execFileSync("useradd", ["--system", "--create-home", "--shell", "/bin/sh", "--password", "*", name], { stdio: "pipe" });
    } catch (error) {
      if (attempt >= 5) throw new Error(`making the user ${name} failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
      await sleep(200);
    }
  }
}

function locked(name: string): boolean {
  return execFileSync("getent", ["shadow", name], { encoding: "utf8" }).split(":")[1]!.startsWith("!");
}

function lookUp(name: string): SystemUser | null {
  try {
    const [, , uid, gid, , home] = execFileSync("getent", ["passwd", name], { encoding: "utf8" }).trim().split(":");
    return { name, uid: Number(uid), gid: Number(gid), home: home! };
  } catch {
    return null;
  }
}

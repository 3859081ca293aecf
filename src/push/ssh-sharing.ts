import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshArgv, sshDestination, type PushTarget } from "./push.js";
import { runArgv } from "./ssh-session.js";

/**
 * One ssh connection per host for a whole fleet push (OpenSSH connection
 * sharing): the first command to a host opens it, every later one (the
 * lock, stage, activate, verify, the load balancer's commands) runs as a
 * session over it instead of paying a new handshake, which on a loaded
 * machine costs a second or more. A lost master only costs that: ssh
 * connects directly again.
 */
export interface SshSharing {
  /** The ssh options that share `target`'s connection. */
  options(target: PushTarget): string[];
  /** Close every master and remove their sockets. */
  close(): Promise<void>;
}

export function shareSshConnections(sshCommand: string): SshSharing {
  // short: a unix socket's path is limited to about 100 bytes; mkdtemp makes the folder 0700, as ssh wants
  const dir = mkdtempSync(join(tmpdir(), "sarge-ssh-"));
  const targets: PushTarget[] = [];
  const options = (target: PushTarget) => {
    if (!targets.includes(target)) targets.push(target);
    // a master outlives a killed push by at most ControlPersist once its last session ends
    return ["-o", "ControlMaster=auto", "-o", `ControlPath=${join(dir, String(targets.indexOf(target)))}`, "-o", "ControlPersist=30"];
  };
  return {
    options,
    async close() {
      await Promise.all(targets.map((target) => runArgv(sshArgv(sshCommand, [...options(target), "-O", "exit", ...sshDestination(target)]))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

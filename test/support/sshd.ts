import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import getPort from "get-port";
import { accepts } from "./ports.js";
import { waitFor } from "./wait.js";

const SSHD = "/usr/sbin/sshd";

export interface TestSshd {
  port: number;
  /** `ssh -F /dev/null -i <client key> …`: reaches this sshd with its key and known host key. */
  sshCommand: string;
  /** The ~/.ssh/config lines that make `alias` reach this sshd with its own key. */
  configEntry(alias: string): string;
  child: ChildProcess;
  log: () => string;
}

/**
 * A private sshd on a loopback port: its own host key, one authorized client
 * key, key authentication only, letting in `user` (default: the current
 * user; another one needs this process to be root). Its log is kept for
 * failure messages.
 */
export async function startSshd(dir: string, user = userInfo().username): Promise<TestSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: the push e2e test needs the Debian package openssh-server; run scripts/setup.sh`);
  }
  for (const name of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `sarge-test-${name}`, "-f", join(dir, name)]);
  cpSync(join(dir, "client_key.pub"), join(dir, "authorized_keys"));
  // sshd reads authorized_keys as the user logging in
  chmodSync(dir, 0o755);
  chmodSync(join(dir, "authorized_keys"), 0o644);
  const port = await getPort({ host: "127.0.0.1" });
  writeFileSync(
    join(dir, "sshd_config"),
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${join(dir, "host_key")}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      // the temp folder is not owned the way sshd's checks want for a user's ~/.ssh
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      `AllowUsers ${user}`,
      "LogLevel VERBOSE",
      // examples/fabfile.py uploads the archive (Fabric's put) before deploying it
      "Subsystem sftp internal-sftp",
    ].join("\n") + "\n",
  );
  writeFileSync(join(dir, "known_hosts"), `[127.0.0.1]:${port} ${readFileSync(join(dir, "host_key.pub"), "utf8")}`);
  // sshd started by root needs its privilege separation folder (systemd's RuntimeDirectory creates it for the service).
  if (process.getuid?.() === 0 && !existsSync("/run/sshd")) mkdirSync("/run/sshd", { mode: 0o755 });
  let log = "";
  const child = spawn(SSHD, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd did not start on 127.0.0.1:${port}: ${log}`);
    return accepts(port);
  }, () => `sshd on 127.0.0.1:${port}: ${log}`, 5_000);
  const sshCommand = [
    "ssh -F /dev/null",
    `-i ${join(dir, "client_key")} -o IdentitiesOnly=yes -o BatchMode=yes`,
    `-o UserKnownHostsFile=${join(dir, "known_hosts")} -o StrictHostKeyChecking=yes`,
  ].join(" ");
  const configEntry = (alias: string) =>
    [
      `Host ${alias}`,
      "  HostName 127.0.0.1",
      `  Port ${port}`,
      `  User ${user}`,
      `  IdentityFile ${join(dir, "client_key")}`,
      "  IdentitiesOnly yes",
      "  BatchMode yes",
      `  UserKnownHostsFile ${join(dir, "known_hosts")}`,
      "  StrictHostKeyChecking yes",
    ].join("\n") + "\n";
  return { port, sshCommand, configEntry, child, log: () => log };
}


import { SargeError } from "../util/errors.js";
import { shellQuote } from "../util/shell-quote.js";
import { formatTarget, sshArgv, sshDestination, type PushTarget } from "./push.js";
import { runArgv } from "./ssh-session.js";

/** The front load balancer's view of one backend: what a fleet push needs to take a host out of rotation and back. */
export interface LoadBalancer {
  readonly label: string;
  /** Server names of the backend (must include every host's name). */
  servers(): Promise<string[]>;
  setState(server: string, state: "drain" | "ready"): Promise<void>;
  /** Sessions the server is handling now (HAProxy's scur). */
  currentSessions(server: string): Promise<number>;
}

/**
 * The HAProxy runtime API of `socket` on the load balancer's host, reached
 * over ssh: python3 there (Debian's python3-minimal, on every Debian server)
 * sends one command to the unix socket and prints the answer, so nothing
 * needs to be installed on the load balancer.
 */
const SEND = [
  "import socket, sys",
  "s = socket.socket(socket.AF_UNIX)",
  "s.connect(sys.argv[1])",
  "s.sendall(sys.argv[2].encode() + b'\\n')",
  "out = b''",
  "while True:",
  "    chunk = s.recv(65536)",
  "    if not chunk: break",
  "    out += chunk",
  "sys.stdout.write(out.decode())",
].join("\n");

export function haproxyOverSsh(target: PushTarget, backend: string, sshCommand: string, sshOptions: string[] = []): LoadBalancer {
  const label = `${formatTarget(target)} backend ${backend}`;
  const command = async (line: string): Promise<string> => {
    const remote = ["python3", "-c", SEND, target.home, line].map(shellQuote).join(" ");
    const argv = sshArgv(sshCommand, [...sshOptions, ...sshDestination(target), remote]);
    const { code, stdout, stderr } = await runArgv(argv);
    if (code !== 0) throw new SargeError(`load balancer ${formatTarget(target)}: "${line}" failed: ${stderr.trim().split("\n").at(-1) ?? `exit ${code}`}`);
    return stdout;
  };
  const stats = async () => {
    const [header, ...rows] = (await command(`show stat`)).split("\n").filter(Boolean);
    const columns = (header ?? "").replace(/^# /, "").split(",");
    return rows.map((row) => Object.fromEntries(row.split(",").map((value, index) => [columns[index], value]))).filter((row) => row.pxname === backend);
  };
  return {
    label,
    async servers() {
      return (await stats()).map((row) => row.svname!).filter((name) => name !== "FRONTEND" && name !== "BACKEND");
    },
    async setState(server, state) {
      const answer = (await command(`set server ${backend}/${server} state ${state}`)).trim();
      if (answer !== "") throw new SargeError(`load balancer ${label}: could not set ${server} to ${state}: ${answer}`);
    },
    async currentSessions(server) {
      const row = (await stats()).find((entry) => entry.svname === server);
      if (!row) throw new SargeError(`load balancer ${label} has no server ${server}`);
      return Number(row.scur);
    },
  };
}


import { connect } from "node:net";

/** null when something accepts a TCP connection on host:port within a second, else what went wrong. */
export function tcpProbe(port: number, host = "127.0.0.1"): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(1000, () => done("connect timed out"));
    socket.once("connect", () => done(null));
    socket.once("error", (error: NodeJS.ErrnoException) => done(`connect failed (${error.code ?? error.message})`));
  });
}

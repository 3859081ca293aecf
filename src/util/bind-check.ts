import { createServer } from "node:net";

/** Try to listen on host:port (every address when host is undefined) and close again: null when that worked, else the error. */
export function bindError(port: number, host?: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

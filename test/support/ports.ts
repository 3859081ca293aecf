import { connect, createServer } from "node:net";

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A base port B (a multiple of 100 in 20000-31999, below Linux's ephemeral
 * range) with B .. B+size-1 all free now.
 */
export async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * (12_000 - size) / 100);
    let free = true;
    for (let port = base; port < base + size && free; port++) free = await isPortFree(port);
    if (free) return base;
  }
  throw new Error(`no block of ${size} free ports found in 20000-31999`);
}

/** Whether something accepts a TCP connection on 127.0.0.1:port right now. */
export function accepts(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(false));
  });
}

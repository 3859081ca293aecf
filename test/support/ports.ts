import { connect, createServer } from "node:net";

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** vitest's worker (1 or 2, see vitest.config.ts) takes its own share of the ports, the whole span outside vitest. */
const POOL = Number(process.env.VITEST_POOL_ID ?? 0);
const SPAN = POOL > 0 ? 6_000 : 12_000;
const LOW = 20_000 + (POOL > 0 ? ((POOL - 1) % 2) * SPAN : 0);

/**
 * A base port B (a multiple of 100 in 20000-31999, below Linux's ephemeral
 * range) with B .. B+size-1 all free now. A home binds its stable ports only
 * at its first deploy, so two test files running side by side must not draw
 * from the same ports: each vitest worker draws from its own half.
 */
export async function freePortBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + 100 * Math.floor(Math.random() * (SPAN - size) / 100);
    let free = true;
    for (let port = base; port < base + size && free; port++) free = await isPortFree(port);
    if (free) return base;
  }
  throw new Error(`no block of ${size} free ports found in ${LOW}-${LOW + SPAN - 1}`);
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

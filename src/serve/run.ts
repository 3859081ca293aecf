import type { FastifyInstance } from "fastify";
import { loadConfig } from "../home/config.js";
import type { HostPort } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { ConfigError, SargeError } from "../util/errors.js";
import { isLoopback } from "../util/loopback.js";
import { proxySecret } from "./proxy-secret.js";
import { limitServerHeap } from "./heap-flags.js";

/**
 * `sarge serve`: listen on serve.listen (or `listen`), until SIGTERM or
 * SIGINT, then stop taking requests and let those running finish.
 */
export async function runServer(paths: HomePaths, override: HostPort | null, started: (address: string) => void): Promise<void> {
  limitServerHeap();
  const config = loadConfig(paths);
  const listen = override ?? config.serve?.listen ?? { host: "127.0.0.1", port: config.portRange[0] - 1 };
  if (!isLoopback(listen.host) && !config.serve?.allowRemote) {
    throw new ConfigError(`${listen.host} is not a loopback address: the API would be reachable from other machines; set serve.allow_remote: true in ${paths.config} to mean it`);
  }
  // loaded after the flags: loading its modules would grow the young generation first
  const { buildServer } = await import("./app.js");
  const app = await buildServer({
    paths,
    auth: { failures: { max: config.serve?.failedAuthLimit ?? 10, windowMs: 60_000 } },
    // the home's TLS HAProxy names the client in X-Forwarded-For, with the secret that proves it is the one speaking
    ...(config.serve?.tls ? { proxySecret: proxySecret(paths) } : {}),
  });
  await listenOn(app, listen);
  started(`http://${listen.host}:${listen.port}`);
  await new Promise<void>((resolve) => {
    const stop = (): void => void app.close().then(resolve, resolve);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}

async function listenOn(app: FastifyInstance, listen: HostPort): Promise<void> {
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new SargeError(`cannot listen on ${listen.host}:${listen.port}: another program uses that port; set serve.listen to a free one`);
    throw error;
  }
}

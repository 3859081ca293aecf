import type { Command } from "commander";
import { ConfigError } from "../util/errors.js";
import { resolveHome, withContext } from "./context.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the HTTP API (docs/server.md) in the foreground, on serve.listen of etc/sarge.yaml")
    .option("--listen <host:port>", "listen here instead (a non-loopback address needs serve.allow_remote: true)")
    .option("--supervise", "instead, have the home's supervisor run it (and HAProxy for serve.tls), restarted like the apps; run again after editing serve:")
    .option("--unsupervise", "stop the supervised server and forget it")
    .action(async (options: { listen?: string; supervise?: boolean; unsupervise?: boolean }, command: Command) => {
      if (options.supervise || options.unsupervise) {
        const { superviseServer, unsuperviseServer } = await import("../serve/program.js");
        if (options.unsupervise) return withContext(command, "serve", unsuperviseServer);
        const addresses = await withContext(command, "serve", superviseServer);
        return void process.stdout.write(`sarge serve runs under the supervisor: ${addresses.join(", ")}\n`);
      }
      const [{ runServer }, { parseHostPort }] = await Promise.all([import("../serve/run.js"), import("../home/config.js")]);
      const listen = options.listen === undefined ? null : parseHostPort(options.listen);
      if (options.listen !== undefined && listen === null) throw new ConfigError(`--listen: expected host:port or a port number, got "${options.listen}"`);
      await runServer(resolveHome(command), listen, (address) => process.stdout.write(`sarge serve: listening on ${address}\n`));
    });
}

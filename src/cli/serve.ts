import type { Command } from "commander";
import { ConfigError } from "../util/errors.js";
import { resolveHome } from "./context.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the HTTP API (docs/server.md) in the foreground, on serve.listen of etc/sarge.yaml")
    .option("--listen <host:port>", "listen here instead (a non-loopback address needs serve.allow_remote: true)")
    .action(async (options: { listen?: string }, command: Command) => {
      const [{ runServer }, { parseHostPort }] = await Promise.all([import("../serve/run.js"), import("../home/config.js")]);
      const listen = options.listen === undefined ? null : parseHostPort(options.listen);
      if (options.listen !== undefined && listen === null) throw new ConfigError(`--listen: expected host:port or a port number, got "${options.listen}"`);
      await runServer(resolveHome(command), listen, (address) => process.stdout.write(`sarge serve: listening on ${address}\n`));
    });
}

import type { Command } from "commander";
import { resolveHome } from "./context.js";
import { printJson } from "./output.js";
import { formatTable } from "./table.js";

export function registerToken(program: Command): void {
  const token = program.command("token").description("API tokens for sarge serve (docs/server.md): only their hashes are stored, in etc/tokens.json");

  token
    .command("add")
    .description("make a token and print it, once")
    .argument("<name>", "who uses it: the name history and notifications show")
    .requiredOption("--role <role>", "viewer, deployer or admin")
    .option("--expires <duration>", 'how long it is valid, like "90d" or "12h" (default: until revoked)')
    .option("--window <window>", 'when its deploys may start, server time, like "mon-fri 08:00-18:00"')
    .action(async (name: string, options: { role: string; expires?: string; window?: string }, command: Command) => {
      const { addToken } = await import("../serve/tokens.js");
      const { secret, record } = addToken(resolveHome(command), { name, ...options });
      process.stdout.write(`${secret}\n`);
      process.stderr.write(`token ${record.name} (${record.role}) made: it is shown only now, keep it somewhere safe\n`);
    });

  token
    .command("list")
    .description("tokens: name, role, expiry, window, revoked")
    .option("--json", "print JSON (fields: name, role, createdAt, expiresAt, window, revokedAt)")
    .action(async (options: { json?: boolean }, command: Command) => {
      const { listTokens } = await import("../serve/tokens.js");
      const tokens = listTokens(resolveHome(command));
      if (options.json) return printJson(tokens);
      process.stdout.write(
        formatTable(
          ["NAME", "ROLE", "CREATED", "EXPIRES", "WINDOW", "REVOKED"],
          tokens.map((t) => [t.name, t.role, t.createdAt.slice(0, 19), t.expiresAt?.slice(0, 19) ?? "never", t.window ?? "any time", t.revokedAt?.slice(0, 19) ?? "-"]),
        ),
      );
    });

  token
    .command("revoke")
    .description("refuse a token from now on (a running server sees it at once)")
    .argument("<name>")
    .action(async (name: string, _options: object, command: Command) => {
      const { revokeToken } = await import("../serve/tokens.js");
      revokeToken(resolveHome(command), name);
      process.stdout.write(`token ${name} revoked\n`);
    });
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServeConfig } from "../home/config-types.js";
import type { HomeContext } from "../home/context.js";
import { instanceLogPath, type HomePaths } from "../home/paths.js";
import { homeSarge } from "../home/pinned-sarge.js";
import { resolveHaproxyBin } from "../haproxy/binary.js";
import { writeHaproxyConfig } from "../haproxy/write-config.js";
import type { ProgramSpec } from "../supervise/supervisor.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { SargeError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import { shellQuote } from "../util/shell-quote.js";
import { renderTemplate } from "../util/templates.js";
import { proxySecret } from "./proxy-secret.js";

export const SERVE_PROGRAM = "sarge-serve";
export const SERVE_TLS_PROGRAM = "sarge-serve-tls";

const programEnv = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" };

/**
 * `sarge serve --supervise`: the home's supervisor runs `sarge serve` (and,
 * with serve.tls, an HAProxy of the home that terminates TLS in front of it)
 * as programs of its own, restarted when they exit and after a reboot like
 * the apps. Run again after editing the serve: block: the programs restart
 * with it. Returns the addresses, once the server answers.
 */
export async function superviseServer(ctx: HomeContext): Promise<string[]> {
  const serve = ctx.config.serve;
  if (serve === null) throw new SargeError(`${ctx.paths.config} has no serve: block: add one (docs/server.md, "Running it under the supervisor") and run this again`);
  await ctx.supervisor.remove(SERVE_PROGRAM);
  await ctx.supervisor.start({ ...serveProgram(ctx.paths), logs: ctx.config.logs });
  await ctx.supervisor.remove(SERVE_TLS_PROGRAM);
  const addresses = [`http://${serve.listen.host}:${serve.listen.port}`];
  if (serve.tls) {
    await ctx.supervisor.start({ ...(await tlsProgram(ctx.paths, ctx.config.haproxyBin, serve)), logs: ctx.config.logs });
    addresses.push(`https://${serve.tls.listen.host}:${serve.tls.listen.port}`);
  }
  await waitForHealth(addresses[0]!, ctx);
  return addresses;
}

/** Stop and forget both programs (a serve: block that was removed). */
export async function unsuperviseServer(ctx: HomeContext): Promise<void> {
  await ctx.supervisor.remove(SERVE_TLS_PROGRAM);
  await ctx.supervisor.remove(SERVE_PROGRAM);
}

function serveProgram(paths: HomePaths): ProgramSpec {
  return {
    name: SERVE_PROGRAM,
    command: ["exec", ...[homeSarge(paths), "serve"].map(shellQuote)].join(" "),
    cwd: paths.root,
    env: programEnv,
    logFile: instanceLogPath(paths, SERVE_PROGRAM),
  };
}

/** HAProxy with its own small config (etc/haproxy/serve-tls.cfg) and the certificate and key joined in one PEM (0600), as it reads them. */
async function tlsProgram(paths: HomePaths, haproxyBin: string, serve: ServeConfig): Promise<ProgramSpec> {
  const tls = serve.tls!;
  const pem = join(paths.etc, "haproxy", "serve-tls.pem");
  writeFileAtomic(pem, readPem(tls.cert, "serve.tls.cert") + readPem(tls.key, "serve.tls.key"), 0o600);
  const cfg = join(paths.etc, "haproxy", "serve-tls.cfg");
  const text = renderTemplate("serve-tls.cfg", { bind: `${tls.listen.host}:${tls.listen.port}`, pem, server: `${serve.listen.host}:${serve.listen.port}`, secret: proxySecret(paths) });
  // 0600: it holds the proxy secret
  await writeHaproxyConfig({ ...paths, haproxyCfg: cfg }, text, haproxyBin, 0o600);
  const bin = resolveHaproxyBin(haproxyBin, { baseDir: paths.root });
  return {
    name: SERVE_TLS_PROGRAM,
    command: ["exec", ...[bin, "-W", "-db", "-f", cfg].map(shellQuote)].join(" "),
    cwd: paths.root,
    env: programEnv,
    logFile: instanceLogPath(paths, SERVE_TLS_PROGRAM),
    stopSignal: "SIGUSR1",
  };
}

function readPem(file: string, key: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SargeError(`${key}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!text.includes("-----BEGIN ")) throw new SargeError(`${key}: ${file} is not a PEM file (no -----BEGIN line)`);
  return text.endsWith("\n") ? text : text + "\n";
}

async function waitForHealth(url: string, ctx: HomeContext): Promise<void> {
  const answered = await pollUntil(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok || undefined, { timeoutMs: 30_000, intervalMs: 200 });
  if (!answered) {
    const log = instanceLogPath(ctx.paths, SERVE_PROGRAM);
    throw new SargeError(`sarge serve did not answer on ${url} within 30 s: its output is in ${log}`);
  }
}

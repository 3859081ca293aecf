import type { FastifyInstance } from "fastify";
import { loadConfig } from "../../home/config.js";
import { assertEnvKey } from "../../home/config-edit.js";
import type { HomePaths } from "../../home/paths.js";
import { runSargeAs } from "./sarge-child.js";
import { pageBase, pagePermission, sendPage, signedIn } from "./page-auth.js";

/** A config change is a release run as the CLI runs it, the value on stdin (never in a process list); null when nothing changed. */
async function changeConfig(paths: HomePaths, who: string, args: string[], input: string): Promise<number | null> {
  const applied = /applied as release (\d+)/.exec(await runSargeAs(paths, who, ["config", ...args], input));
  return applied ? Number(applied[1]) : null;
}

/** /config (admin): the env keys with values hidden until asked; set and unset as a release. */
export function configRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  const admin = { preHandler: pagePermission("config-values") };

  app.get<{ Querystring: { show?: string } }>("/config", admin, (request, reply) => {
    const env = loadConfig(paths).env;
    const entries = Object.entries(env).map(([key, value]) => ({ key, shown: request.query.show === key, value: request.query.show === key ? value : null }));
    return sendPage(reply, "config", { ...pageBase(signedIn(request), "Config"), entries });
  });

  app.post<{ Body: { key?: string; value?: string } }>("/config", admin, async (request, reply) => {
    const key = (request.body?.key ?? "").trim();
    assertEnvKey(key);
    const release = await changeConfig(paths, signedIn(request).name, ["set", "--stdin"], `${key}=${request.body?.value ?? ""}\n`);
    return reply.redirect(release === null ? "/config" : `/releases/${release}`, 303);
  });

  app.post<{ Body: { key?: string } }>("/config/unset", admin, async (request, reply) => {
    const key = (request.body?.key ?? "").trim();
    assertEnvKey(key);
    const release = await changeConfig(paths, signedIn(request).name, ["unset", key], "");
    return reply.redirect(release === null ? "/config" : `/releases/${release}`, 303);
  });
}

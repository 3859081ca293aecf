import { spawn } from "node:child_process";
import type { FastifyInstance } from "fastify";
import { homeSarge } from "../../home/pinned-sarge.js";
import { requirePermission } from "../auth.js";
import { HttpError } from "../http-error.js";

/**
 * POST /api/v1/rollback {"proc", "to"?}: the home's `sarge rollback` as a child (the
 * same deploy lock and code path), answered with its --json result. Allowed
 * while deploys are locked: it is how you fix things.
 */
export function rollbackRoutes(app: FastifyInstance): void {
  const paths = app.sargeAuth.paths;
  app.post<{ Body: { proc?: unknown; to?: unknown } }>("/api/v1/rollback", { preHandler: requirePermission("rollback") }, async (request) => {
    const { proc, to } = request.body ?? {};
    if (typeof proc !== "string" || (to !== undefined && typeof to !== "string")) throw new HttpError(400, 'send JSON: {"proc": "web"} or {"proc": "web", "to": "<kept instance>"}');
    const args = ["rollback", proc, "--json", ...(to ? ["--to", to] : [])];
    const { code, stdout, stderr } = await run(homeSarge(paths), args, request.who!);
    if (code === 0) return JSON.parse(stdout) as unknown;
    const message = stderr.split("\n").find((line) => line.startsWith("sarge: "))?.slice("sarge: ".length) ?? `sarge rollback exited with code ${code}`;
    throw new HttpError(code === 2 ? 400 : 409, message);
  });
}

function run(file: string, args: string[], who: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SARGE_ACTOR: who } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/** Another local user's HTTP server on a port sarge uses. */
export interface Squatter {
  pid: number;
  user: string;
  /** What it answers to every request. */
  body: string;
}

const SCRIPT = `require("node:http")
  .createServer((request, response) => response.end("squatter"))
  .listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"))
  .on("error", (error) => { console.log(error.code); process.exit(1); });
`;

/**
 * Starts a squatter on 127.0.0.1:port: as user nobody when the tests run as root (setpriv), else
 * as a separate process of this user. Resolves once it listens; stopped when the test ends.
 */
export async function startSquatter(port: number): Promise<Squatter> {
  const dir = mkdtempSync(join(tmpdir(), "sarge-squat-"));
  chmodSync(dir, 0o755);
  const script = join(dir, "squat.cjs");
  writeFileSync(script, SCRIPT, { mode: 0o644 });
  const asNobody = userInfo().uid === 0;
  const command = asNobody ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath] : [process.execPath];
  const child = spawn(command[0]!, [...command.slice(1), script, String(port)], { cwd: "/", stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  onTestFinished(async () => {
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const first = await new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("exit", () => resolve(out.trim() || "exited"));
  });
  if (first !== "listening") throw new Error(`the squatter could not listen on port ${port}: ${first}`);
  return { pid: child.pid!, user: asNobody ? "nobody" : userInfo().username, body: "squatter" };
}

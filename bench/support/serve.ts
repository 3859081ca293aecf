import { spawn } from "node:child_process";
import { join } from "node:path";
import { freePortBlock } from "../../test/support/ports.js";
import { waitFor } from "../../test/support/wait.js";
import { onCleanup } from "./cleanup.js";
import type { BenchHome } from "./home.js";

export interface BenchServer {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/** `sarge serve` of a bench home on a free loopback port, answering /healthz; stopped by `stop()` or the bench's cleanup. */
export async function startBenchServer(home: BenchHome): Promise<BenchServer> {
  const port = await freePortBlock(1);
  const server = spawn(join(home.paths.bin, "sarge"), ["serve", "--listen", `127.0.0.1:${port}`], { stdio: "ignore" });
  const stop = onCleanup("sarge serve", async () => {
    if (server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, "sarge serve to answer", 60_000);
  return { base, pid: server.pid!, stop };
}

import { setTimeout as sleep } from "node:timers/promises";
import type { SargeConfig } from "../home/config-types.js";
import { SargeError } from "../util/errors.js";
import { probeInstance } from "./readiness.js";

export interface VerifyResult {
  /** The process types probed (those with a stable address). */
  procs: string[];
  probes: number;
  durationMs: number;
}

/**
 * `sarge verify`: the health check (health.http_path, else TCP) through each
 * process type's stable address, again and again for `forMs`; the first
 * failed probe fails it. A fleet push runs it on each host after its switch.
 */
export async function verifyStable(config: SargeConfig, procs: string[], forMs: number): Promise<VerifyResult> {
  const routed = (procs.length > 0 ? procs : Object.keys(config.portMap)).filter((proc) => proc in config.portMap).sort();
  const started = Date.now();
  let probes = 0;
  do {
    for (const proc of routed) {
      const { host, port } = config.portMap[proc]!;
      const problem = await probeInstance(port, config.health.httpPath, host === "0.0.0.0" ? "127.0.0.1" : host);
      probes++;
      if (problem !== null) {
        throw new SargeError(`${proc} failed verification on its stable address ${host}:${port} after ${((Date.now() - started) / 1000).toFixed(1)}s: ${problem}`);
      }
    }
    if (Date.now() - started < forMs) await sleep(Math.min(250, forMs - (Date.now() - started)));
  } while (Date.now() - started < forMs);
  return { procs: routed, probes, durationMs: Date.now() - started };
}

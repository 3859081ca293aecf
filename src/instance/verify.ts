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
 * process type's stable address, every 250 ms until `forMs` has passed and
 * each has passed `passes` probes; the first failed probe fails it. A fleet
 * push runs it on each host after its switch.
 */
export async function verifyStable(config: SargeConfig, procs: string[], forMs: number, passes = 1): Promise<VerifyResult> {
  const routed = (procs.length > 0 ? procs : Object.keys(config.portMap)).filter((proc) => proc in config.portMap).sort();
  const started = Date.now();
  let probes = 0;
  let rounds = 0;
  const going = () => Date.now() - started < forMs || rounds < passes;
  do {
    for (const proc of routed) {
      const { host, port } = config.portMap[proc]!;
      const problem = await probeInstance(port, config.health.httpPath, host === "0.0.0.0" ? "127.0.0.1" : host);
      probes++;
      if (problem !== null) {
        throw new SargeError(`${proc} failed verification on its stable address ${host}:${port} after ${((Date.now() - started) / 1000).toFixed(1)}s: ${problem}`);
      }
    }
    rounds++;
    if (going()) await sleep(rounds < passes ? 250 : Math.min(250, forMs - (Date.now() - started)));
  } while (going());
  return { procs: routed, probes, durationMs: Date.now() - started };
}

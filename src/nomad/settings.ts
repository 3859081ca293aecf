import type { SargeConfig } from "../home/config-types.js";
import { DEFAULT_PROCESS_SETTINGS } from "../home/config-processes.js";

/** What a Nomad job takes from a home's etc/sarge.yaml (docs/nomad.md, "What maps to what"). */
export interface NomadSettings {
  /** Process types HAProxy routes (port_map): their group gets a service with sarge's health check. */
  routed: string[];
  /** health.http_path: an HTTP check on it; null: a TCP check, as sarge's readiness. */
  httpPath: string | null;
  /** env: given to every task. */
  env: Record<string, string>;
  stopSignal: NodeJS.Signals;
  stopTimeoutMs: number;
}

/** Without a home, what a fresh `sarge init` home would say: web routed, a TCP check, no env. */
export function nomadSettings(config: SargeConfig | null): NomadSettings {
  return {
    routed: config ? Object.keys(config.portMap) : ["web"],
    httpPath: config?.health.httpPath ?? null,
    env: config?.env ?? {},
    // the defaults of etc/sarge.yaml's processes: (one job's types share them here)
    stopSignal: DEFAULT_PROCESS_SETTINGS.stopSignal,
    stopTimeoutMs: DEFAULT_PROCESS_SETTINGS.graceMs,
  };
}

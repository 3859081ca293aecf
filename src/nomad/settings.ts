import type { SargeConfig } from "../home/config-types.js";
import { processSettings } from "../home/config-processes.js";

/** What a Nomad job takes from a home's etc/sarge.yaml (docs/nomad.md, "What maps to what"). */
export interface NomadSettings {
  /** Process types HAProxy routes (port_map): their group gets a service with sarge's health check. */
  routed: string[];
  /** health.http_path: an HTTP check on it; null: a TCP check, as sarge's readiness. */
  httpPath: string | null;
  /** env: given to every task. */
  env: Record<string, string>;
  /** How a process type's task stops (processes.<type>.stop_signal and grace): KillSignal, and KillTimeout until SIGKILL. */
  stop(proc: string): { signal: NodeJS.Signals; timeoutMs: number };
  /** processes.<type>.limits.memory in MiB, rounded up: the task's Resources.MemoryMB; null leaves Nomad's default. */
  memoryMb(proc: string): number | null;
}

/** Without a home, what a fresh `sarge init` home would say: web routed, a TCP check, no env, the default stop settings. */
export function nomadSettings(config: SargeConfig | null): NomadSettings {
  return {
    routed: config ? Object.keys(config.portMap) : ["web"],
    httpPath: config?.health.httpPath ?? null,
    env: config?.env ?? {},
    stop: (proc) => {
      const settings = processSettings(config?.processes ?? {}, proc);
      return { signal: settings.stopSignal, timeoutMs: settings.graceMs };
    },
    memoryMb: (proc) => {
      const bytes = processSettings(config?.processes ?? {}, proc).limits.memoryBytes;
      return bytes === null ? null : Math.ceil(bytes / (1024 * 1024));
    },
  };
}

/** etc/sarge.yaml after validation (docs/configuration.md). */
export interface HostPort {
  host: string;
  port: number;
}

export type SupervisorKind = "builtin" | "supervisord";

export interface SargeConfig {
  /** Inclusive range of ports handed to instances. */
  portRange: [number, number];
  /** Stable address per process type, served by HAProxy. */
  portMap: Record<string, HostPort>;
  /** Environment given to every process. */
  env: Record<string, string>;
  haproxyBin: string;
  python: string;
  /** Absolute path of the wheel folder (config value is relative to home). */
  dist: string;
  supervisor: SupervisorKind;
  keepReleases: number;
  health: { timeoutMs: number; httpPath: string | null };
  notify: string[];
  /** Program log rotation: bytes per file and rotated files kept. */
  logs: { maxBytes: number; keep: number };
  /** Caps on an uploaded archive. */
  archive: { maxBytes: number; maxEntries: number; maxNameLength: number };
}

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
  webhook: WebhookConfig;
  /** `sarge serve` (docs/server.md); null without a `serve:` block, and then the supervisor does not run it. */
  serve: ServeConfig | null;
  /** Per process type (`processes:`); a type not named here gets DEFAULT_PROCESS_SETTINGS (config-processes.ts). */
  processes: Record<string, ProcessSettings>;
}

/** Who gets the stop signal: the program's main process (the app, when the command execs it) or its whole process group. */
export type StopTo = "main" | "group";

export interface ProcessSettings {
  stopSignal: NodeJS.Signals;
  stopTo: StopTo;
  /** How long requests in flight may finish on the old version (the drain), and from the stop signal to SIGKILL. */
  graceMs: number;
  /** "never": the old instance stops before the new one starts (a singleton worker); that type has a gap. */
  overlap: "always" | "never";
  /** Applied at start as rlimits; null: inherited. */
  limits: { nofile: number | null; memoryBytes: number | null };
}

export interface ServeConfig {
  /** Where the server listens; loopback unless allowRemote. */
  listen: HostPort;
  allowRemote: boolean;
  /** PEM files (absolute paths): the home's HAProxy terminates TLS on `tls.listen` and forwards to `listen`. */
  tls: { cert: string; key: string; listen: HostPort } | null;
  /** A deploy run by the server fails after this long in total… */
  deployTimeoutMs: number;
  /** …or after this long without a line of output. */
  idleTimeoutMs: number;
  /** Refused tokens one client address may present per minute before it is refused outright (429). */
  failedAuthLimit: number;
}

/** Deploys by git push (GitHub's webhook) and by ref through the API. */
export interface WebhookConfig {
  /** The secret GitHub signs deliveries with; null: POST /hooks/github does not exist. */
  secret: string | null;
  /** Where commits are fetched from: any URL or path git fetches from; null: no deploys by ref. */
  repository: string | null;
  /** A push to this branch deploys. */
  branch: string | null;
  /** A pushed tag whose name matches this pattern ("v*") deploys. */
  tags: string | null;
  /** The process types a push deploys; null: as the API does without procs. */
  procs: string[] | null;
}

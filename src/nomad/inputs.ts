import { ConfigError } from "../util/errors.js";

/** The Nomad task drivers a bundle's launcher runs under: exec (isolated, the default) or raw_exec. */
export const NOMAD_DRIVERS = ["exec", "raw_exec"] as const;
export type NomadDriver = (typeof NOMAD_DRIVERS)[number];

/** URL schemes Nomad's artifact fetcher (go-getter) downloads a bundle from. */
const ARTIFACT_SCHEMES = ["http:", "https:", "s3:", "gcs:"];

export function parseDriver(value: string | undefined): NomadDriver {
  if (value === undefined) return "exec";
  if ((NOMAD_DRIVERS as readonly string[]).includes(value)) return value as NomadDriver;
  throw new ConfigError(`--driver: "${value}" is not a driver sarge exports for; use ${NOMAD_DRIVERS.join(" or ")}`);
}

/** `--count web=2,worker=1`: every name must be a process type of the Procfile (not the release hook). */
export function parseCounts(value: string | undefined, processTypes: string[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(processTypes.map((proc) => [proc, 1]));
  if (value === undefined) return counts;
  for (const item of value.split(",")) {
    const match = /^\s*([A-Za-z0-9_-]+)\s*=\s*(\d+)\s*$/.exec(item);
    if (!match) throw new ConfigError(`--count: "${item}" is not <process type>=<number> (e.g. --count web=2,worker=1)`);
    const [, proc, count] = match as unknown as [string, string, string];
    if (!processTypes.includes(proc)) {
      throw new ConfigError(`--count: "${proc}" is not a process type of the Procfile, which defines ${processTypes.join(", ")}`);
    }
    counts[proc] = Number(count);
  }
  return counts;
}

/** The URL Nomad fetches the bundle from: absolute, with a scheme go-getter downloads over. */
export function checkArtifactUrl(value: string | undefined): string {
  if (value === undefined || value === "") {
    throw new ConfigError("sarge export nomad needs --artifact-url URL: where Nomad's clients download the bundle from");
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--artifact-url: "${value}" is not an absolute URL (e.g. https://artifacts.example.com/hello-<commit>.tar.gz)`);
  }
  if (!ARTIFACT_SCHEMES.includes(url.protocol)) {
    throw new ConfigError(`--artifact-url: "${value}": Nomad fetches bundles over ${ARTIFACT_SCHEMES.map((s) => s.slice(0, -1)).join(", ")}, not ${url.protocol.slice(0, -1)}`);
  }
  return value;
}

/** A sha256 as `sarge bundle` prints it: 64 hex digits, lowercased. */
export function checkSha256(value: string): string {
  const hex = value.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ConfigError(`--sha256: "${value}" is not a sha256 (64 hex digits, as sarge bundle prints it)`);
  return hex;
}

/** The job's ID: what Nomad accepts and what stays readable in its UI and CLI. */
export function checkJobName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
    throw new ConfigError(`--name: "${value}" is not a usable Nomad job ID (letters, digits, '.', '_' and '-'; give --name)`);
  }
  return value;
}

/** `--datacenters dc1,dc2`; Nomad's own default is every datacenter ("*"). */
export function parseDatacenters(value: string | undefined): string[] {
  if (value === undefined) return ["*"];
  const names = value.split(",").map((name) => name.trim());
  if (names.some((name) => name === "")) throw new ConfigError(`--datacenters: "${value}" has an empty name`);
  return names;
}

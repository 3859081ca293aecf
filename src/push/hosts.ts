import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { SargeError } from "../util/errors.js";
import { parseTarget, type PushTarget } from "./push.js";
import { TARGET_FORMAT } from "./target-format.js";

export const HOSTS_FILE = "sarge-push.yaml";

export interface FleetHosts {
  hosts: PushTarget[];
  /** Where the list came from, for messages. */
  source: string;
}

/**
 * The hosts of a fleet push: `--hosts a,b,c`, else SARGE_HOSTS from the env
 * file, else `hosts:` in sarge-push.yaml beside the Procfile; null when none
 * of them is given. Each host is a push target; names must be distinct, as a
 * load balancer's servers are named after them.
 */
export function resolveHosts(flag: string | undefined, dotenv: Map<string, string>, envFile: string, cwd: string): FleetHosts | null {
  if (flag !== undefined) return parseHosts(splitList(flag), "--hosts");
  if (dotenv.has("SARGE_HOSTS")) return parseHosts(splitList(dotenv.get("SARGE_HOSTS")!), `SARGE_HOSTS in ${envFile}`);
  const file = join(cwd, HOSTS_FILE);
  if (!existsSync(file)) return null;
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SargeError(`${file} is not valid YAML: ${(error as Error).message.split("\n")[0]}`, { exitCode: 2 });
  }
  const hosts = (document as { hosts?: unknown } | null)?.hosts;
  if (!Array.isArray(hosts) || hosts.some((host) => typeof host !== "string")) {
    throw new SargeError(`${file}: "hosts" must be a list of ${TARGET_FORMAT}`, { exitCode: 2, detail: "hosts:\n  - deploy@app1:/var/local/myapp\n  - deploy@app2:/var/local/myapp" });
  }
  return parseHosts(hosts as string[], `hosts in ${file}`);
}

function splitList(text: string): string[] {
  return text.split(",").map((host) => host.trim()).filter((host) => host !== "");
}

function parseHosts(texts: string[], source: string): FleetHosts {
  if (texts.length === 0) throw new SargeError(`${source} names no host`, { exitCode: 2, detail: `Give one or more ${TARGET_FORMAT}, separated by commas.` });
  const hosts = texts.map((text) => parseTarget(text, `${source}:`));
  const names = hosts.map((host) => host.host);
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) {
    throw new SargeError(`${source} names the host ${twice} twice`, {
      exitCode: 2,
      detail: "Each host of a push is one server, named by its host (a load balancer's server names are the host names); give two homes on one machine distinct ssh aliases (~/.ssh/config).",
    });
  }
  return { hosts, source };
}

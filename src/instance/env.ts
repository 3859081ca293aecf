import { join } from "node:path";
import type { HomePaths } from "../home/paths.js";
import { readDotenvFiles } from "../procfile/dotenv.js";
import { environmentVariables } from "../python-env/index.js";
import type { InstanceRecord } from "./state.js";
import { SargeError } from "../util/errors.js";

/** Variables of sarge's own environment that programs get; everything else (SSH_*, SUDO_*, …) stays out. */
const inherited = ["HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PATH"];

export function instanceDir(paths: HomePaths, id: string): string {
  return join(paths.deploy, id);
}

/**
 * The whole environment of an instance's processes: a few of sarge's own
 * variables and PYTHONUNBUFFERED=1, the app's .env, the config's env (the
 * operator wins over the repository), then PORT and the virtualenv.
 */
export function instanceEnvironment(paths: HomePaths, instance: InstanceRecord): Record<string, string> {
  const dir = instanceDir(paths, instance.id);
  const env: Record<string, string> = {};
  for (const key of inherited) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  env.PATH ??= "/usr/local/bin:/usr/bin:/bin";
  // a Python process's print() would otherwise stay in its buffer: never in `sarge logs`, lost on stop
  env.PYTHONUNBUFFERED = "1";
  Object.assign(env, Object.fromEntries(readDotenvFiles([join(dir, ".env")])), instance.configEnv);
  // no port yet (the release hook runs before one is allocated): no PORT rather than PORT=0
  if (instance.port !== 0) env.PORT = String(instance.port);
  env.SARGE_INSTANCE = instance.id;
  env.SARGE_RELEASE = String(instance.release);
  if (instance.envKey !== null) Object.assign(env, environmentVariables(join(dir, ".venv"), env.PATH));
  assertFitsTheKernel(env);
  return env;
}

/** Linux's MAX_ARG_STRLEN (32 pages): execve refuses a longer KEY=value string with E2BIG. */
const maxVariableBytes = 32 * 4096;

/** A variable execve would refuse, named before the start fails with a bare "spawn E2BIG". */
function assertFitsTheKernel(env: Record<string, string>): void {
  for (const [key, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(`${key}=${value}\0`);
    if (bytes > maxVariableBytes) {
      throw new SargeError(`${key} is too big for a process environment: ${bytes} bytes as KEY=value, and Linux takes at most ${maxVariableBytes} (MAX_ARG_STRLEN) for one variable`, {
        detail: "Put a value this big in a file the app reads, and set its path instead.",
      });
    }
  }
}

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../../src/util/package-root.js";

/** Environment that makes sarge send itself `signal` right after it spawns a command containing `command` (see signal-after-spawn.mjs). */
export function signalAfterSpawn(signal: NodeJS.Signals, command: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--import ${pathToFileURL(join(packageRoot, "test", "support", "signal-after-spawn.mjs")).href}`,
    SARGE_TEST_SIGNAL: signal,
    SARGE_TEST_SIGNAL_AFTER_SPAWN_OF: command,
  };
}

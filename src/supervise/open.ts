import type { SargeConfig } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { connectBuiltin } from "./builtin/client.js";
import { connectSupervisord } from "./supervisord/index.js";
import type { Supervisor } from "./supervisor.js";

/** Connect to the home's supervisor, whichever backend etc/sarge.yaml names. */
export function openSupervisor(paths: HomePaths, config: SargeConfig): Promise<Supervisor> {
  return config.supervisor === "supervisord" ? connectSupervisord(paths) : connectBuiltin(paths);
}

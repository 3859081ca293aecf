import type { SargeConfig } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { connectBuiltin } from "./builtin/client.js";
import type { Supervisor } from "./supervisor.js";

/** Connect to the home's supervisor, whichever backend etc/sarge.yaml names. */
export async function openSupervisor(paths: HomePaths, config: SargeConfig): Promise<Supervisor> {
  switch (config.supervisor) {
    case "builtin":
      return connectBuiltin(paths);
    case "supervisord":
      throw new Error("the supervisord backend is not wired yet");
  }
}

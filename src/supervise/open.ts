import type { SargeConfig } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import type { Supervisor } from "./supervisor.js";

/** Connect to the home's supervisor, loading only the backend etc/sarge.yaml names. */
export async function openSupervisor(paths: HomePaths, config: SargeConfig): Promise<Supervisor> {
  if (config.supervisor === "supervisord") return (await import("./supervisord/index.js")).connectSupervisord(paths);
  return (await import("./builtin/client.js")).connectBuiltin(paths);
}

import type { HomePaths } from "../home/paths.js";
import { loadConfig } from "../home/config.js";
import type { SargeConfig } from "../home/config-types.js";
import { terminalReporter } from "../reporter.js";
import { openSargeLog, type SargeLog } from "../sarge-log.js";
import { openSupervisor } from "../supervise/open.js";
import type { HomeContext } from "./context.js";
import { haproxyRouter } from "./haproxy-router.js";

export interface OpenHome {
  paths: HomePaths;
  config: SargeConfig;
  log: SargeLog;
}

/** The config and sarge.log of a home: enough for commands that only read files. */
export function openHome(paths: HomePaths, command: string): OpenHome {
  const config = loadConfig(paths);
  return { paths, config, log: openSargeLog(paths, command) };
}

/** Everything a command that drives processes needs; fails fast when the supervisor is not running. */
export async function openContext(paths: HomePaths, command: string): Promise<HomeContext> {
  const home = openHome(paths, command);
  const supervisor = await openSupervisor(paths, home.config);
  return {
    ...home,
    supervisor,
    router: haproxyRouter(paths, home.config, supervisor, home.log),
    reporter: terminalReporter(home.log),
  };
}

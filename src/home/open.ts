import type { HomePaths } from "./paths.js";
import { loadConfig } from "./config.js";
import type { SargeConfig } from "./config-types.js";
import { terminalReporter } from "../util/reporter.js";
import { openSargeLog, type SargeLog } from "../util/sarge-log.js";
import { openSupervisor } from "../supervise/open.js";
import type { HomeContext } from "./context.js";
import { haproxyRouter } from "../haproxy/router.js";

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

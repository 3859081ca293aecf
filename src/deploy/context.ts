import type { SargeConfig } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import type { Reporter } from "../reporter.js";
import type { SargeLog } from "../sarge-log.js";
import type { Supervisor } from "../supervise/supervisor.js";
import type { Router } from "./router.js";

/** Everything a server-side operation works with, opened once per command. */
export interface HomeContext {
  paths: HomePaths;
  config: SargeConfig;
  supervisor: Supervisor;
  router: Router;
  log: SargeLog;
  reporter: Reporter;
}

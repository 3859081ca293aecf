import type { SargeConfig } from "./config-types.js";
import type { HomePaths } from "./paths.js";
import type { Reporter } from "../util/reporter.js";
import type { SargeLog } from "../util/sarge-log.js";
import type { Supervisor } from "../supervise/supervisor.js";
import type { Router } from "../release/router.js";
import type { ReleaseCancel } from "../release/cancel.js";

/** Everything a server-side operation works with, opened once per command. */
export interface HomeContext {
  paths: HomePaths;
  config: SargeConfig;
  supervisor: Supervisor;
  router: Router;
  log: SargeLog;
  reporter: Reporter;
  /** Set while a release command runs cancellable (release/cancel.ts): the steps watch its signal. */
  cancel?: ReleaseCancel;
}

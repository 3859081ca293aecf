import { statSync } from "node:fs";
import { openHome } from "../../home/open.js";
import type { HomePaths } from "../../home/paths.js";
import { procStatus, recordedStatus, type ProcStatusView } from "../../instance/views.js";
import { SupervisorNotRunningError } from "../../util/errors.js";
import { withHomeContext } from "../home.js";

export interface HomeStatus {
  rows: ProcStatusView[];
  /** Why the rows are what state.json says rather than probed (the supervisor is not running), else null. */
  recorded: string | null;
  checkedAt: string;
}

/** How long one look at the processes serves every page load: probing the stable addresses scans /proc, ~100 ms at 50 instances. */
const freshMs = 2_000;

/**
 * The home page's process status, shared by the page loads of `freshMs`
 * (one probe at a time, however many browsers are open) and looked at again
 * at once when var/state.json changed (a release moved), so the page never
 * shows a switched release as still to come.
 */
export function statusCache(paths: HomePaths): () => Promise<HomeStatus> {
  let last: { at: number; stateMtime: number; status: Promise<HomeStatus> } | null = null;
  return () => {
    const stateMtime = mtimeOf(paths.state);
    if (last && last.stateMtime === stateMtime && Date.now() - last.at < freshMs) return last.status;
    const status = look(paths);
    last = { at: Date.now(), stateMtime, status };
    status.catch(() => (last = null));
    return status;
  };
}

async function look(paths: HomePaths): Promise<HomeStatus> {
  const checkedAt = new Date().toISOString();
  try {
    return { rows: await withHomeContext(paths, procStatus), recorded: null, checkedAt };
  } catch (error) {
    if (!(error instanceof SupervisorNotRunningError)) throw error;
    return { rows: recordedStatus(openHome(paths, "serve")), recorded: `${error.message}: this is what var/state.json says`, checkedAt };
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

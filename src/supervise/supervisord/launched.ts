import { pollUntil } from "../../util/poll.js";
import { runningProcStat } from "../../util/proc-stat.js";

/**
 * Wait until the launcher in `pid` has made its own session (it then execs the
 * program at once), the process is gone, or `timeoutMs` passed. True when launched.
 */
export async function waitLaunched(pid: number, timeoutMs = 5_000): Promise<boolean> {
  const outcome = await pollUntil(
    () => {
      const stat = runningProcStat(pid);
      return stat === null ? "gone" : stat.session === pid ? "launched" : undefined;
    },
    { timeoutMs, intervalMs: 3 },
  );
  return outcome === "launched";
}

import type { SargeConfig } from "../home/config-types.js";
import type { HomePaths } from "../home/paths.js";
import { SupervisorNotRunningError } from "../util/errors.js";
import { pollUntil } from "../util/poll.js";
import { sargeVersion } from "../util/version.js";
import type { Supervisor } from "./supervisor.js";

/**
 * Connect to the home's supervisor, loading only the backend etc/sarge.yaml
 * names. A builtin daemon of another sarge version is said on stderr (once):
 * it still serves every request its protocol knows.
 */
export async function openSupervisor(paths: HomePaths, config: SargeConfig): Promise<Supervisor> {
  if (config.supervisor === "supervisord") return (await import("./supervisord/index.js")).connectSupervisord(paths);
  const { connectBuiltin, versionMismatch } = await import("./builtin/client.js");
  const client = await connectBuiltin(paths);
  const { version } = await client.daemon();
  if (version !== sargeVersion() && !mismatchSaid) {
    mismatchSaid = true;
    process.stderr.write(`sarge: ${versionMismatch(version)}\n`);
  }
  return client;
}

let mismatchSaid = false;

/** Poll until the home's supervisor answers, for at most `timeoutMs`; whether it did. */
export async function waitForSupervisor(paths: HomePaths, config: SargeConfig, timeoutMs: number): Promise<boolean> {
  const answered = await pollUntil(
    async () => {
      try {
        await (await openSupervisor(paths, config)).close();
        return true;
      } catch (error) {
        if (!(error instanceof SupervisorNotRunningError)) throw error;
        return false;
      }
    },
    { timeoutMs, intervalMs: 100 },
  );
  return answered === true;
}

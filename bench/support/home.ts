/**
 * A throwaway sarge home for one benchmark: the tests' home (test/support/home.ts)
 * with more ports and a longer health timeout by default, its commands run
 * through `<home>/bin/sarge` (the wrapper a user runs) and timed, and its
 * destroy() registered as a cleanup.
 */
import { join } from "node:path";
import { createTestHome, type TestHome, type TestHomeOptions } from "../../test/support/home.js";
import { run, type RunOptions, type RunResult } from "./cli.js";
import { onCleanup } from "./cleanup.js";

export interface BenchHome extends Omit<TestHome, "sarge" | "spawn" | "destroy"> {
  /** `<home>/bin/sarge <args>` as a separate process, timed. */
  sarge(args: string[], options?: RunOptions): Promise<RunResult>;
  destroy(): Promise<void>;
}

export async function createBenchHome(options: TestHomeOptions = {}): Promise<BenchHome> {
  const home = await createTestHome({ rangeSize: 40, healthTimeout: "30s", ...options });
  const destroy = onCleanup(`home ${home.root}`, async () => {
    const leftovers = await home.destroy();
    if (leftovers.length > 0) process.stderr.write(`killed ${leftovers.length} leftover process(es) of ${home.root}\n`);
  });
  const wrapper = join(home.paths.bin, "sarge");
  return { ...home, sarge: (args, runOptions) => run(wrapper, args, runOptions), destroy };
}

import type { HomeContext } from "../home/context.js";
import { acquireHomeLock, describeHolder } from "./lock.js";
import { step } from "./steps.js";

/** Run `work` holding the home's deploy lock; every command that changes instances or etc/sarge.yaml goes through here. */
export async function withHomeLock<T>(ctx: Pick<HomeContext, "paths" | "reporter">, command: string, work: () => Promise<T>): Promise<T> {
  const lock = await step("lock", () =>
    acquireHomeLock(ctx.paths, command, {
      waiting: (holder) => ctx.reporter.line(`waiting for the deploy lock held by ${describeHolder(holder)}`),
      takeover: (holder) => ctx.reporter.line(`took over the deploy lock of ${describeHolder(holder)}, which is no longer running`),
    }),
  );
  try {
    return await work();
  } finally {
    lock.release();
  }
}

/**
 * Everything a benchmark starts registers how to stop it here, so that a
 * failure, Ctrl-C or SIGTERM still stops supervisors, HAProxy and apps and
 * removes temp folders. Benchmarks also call the returned stop themselves in
 * `finally` blocks; each cleanup runs at most once.
 */

type Cleanup = () => Promise<void> | void;

const pending = new Map<number, { label: string; run: Cleanup }>();
let nextId = 1;
let handlersInstalled = false;

/** Register a cleanup; the returned function runs it now (once) and unregisters it. */
export function onCleanup(label: string, run: Cleanup): () => Promise<void> {
  installHandlers();
  const id = nextId++;
  pending.set(id, { label, run });
  return async () => {
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    await entry.run();
  };
}

/** Run every registered cleanup, newest first, reporting (not throwing) failures. */
export async function runAllCleanups(): Promise<void> {
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [, entry] of entries) {
    try {
      await entry.run();
    } catch (error) {
      process.stderr.write(`cleanup "${entry.label}" failed: ${(error as Error).message}\n`);
    }
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping everything the benchmark started...\n`);
      void runAllCleanups().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
}

import { terminateTree } from "./process-tree.js";

/**
 * While a child runs: when `cancel` aborts, stop it and every process below
 * it (SIGTERM, then SIGKILL after `graceMs`). Returns the function that stops
 * watching, to call once the child has ended.
 */
export function stopTreeOnAbort(pid: number | undefined, cancel: AbortSignal | undefined, graceMs = 3000): () => void {
  if (!cancel || pid === undefined) return () => undefined;
  const stop = () => void terminateTree(pid, "SIGTERM", graceMs).catch(() => undefined);
  if (cancel.aborted) {
    stop();
    return () => undefined;
  }
  cancel.addEventListener("abort", stop, { once: true });
  return () => cancel.removeEventListener("abort", stop);
}

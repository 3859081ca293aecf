import { terminateGroup } from "./process-group.js";

/**
 * While a child that leads its own process group (spawned detached) runs:
 * when `cancel` aborts, stop the whole group (SIGTERM, then SIGKILL after
 * `graceMs`), so nothing it forked outlives it. Returns the function that
 * stops watching, to call once the child has ended.
 */
export function stopGroupOnAbort(pid: number | undefined, cancel: AbortSignal | undefined, graceMs = 3000): () => void {
  if (!cancel || pid === undefined) return () => undefined;
  const stop = () => void terminateGroup(pid, "SIGTERM", graceMs).catch(() => undefined);
  if (cancel.aborted) {
    stop();
    return () => undefined;
  }
  cancel.addEventListener("abort", stop, { once: true });
  return () => cancel.removeEventListener("abort", stop);
}

import { setFlagsFromString } from "node:v8";

/**
 * V8 settings for the long-running server, set before its modules load
 * (docs/benchmarks.md, "sarge serve", has the figures):
 * - the young generation stays at its first size (1 MiB semi-spaces): under
 *   a stream of requests V8 grows it to 16 MiB semi-spaces, 10-14 MiB more
 *   resident memory for garbage that dies young anyway; the cost is more
 *   frequent, shorter scavenges;
 * - --optimize-for-size: the old generation grows in smaller steps and is
 *   collected sooner, 1.5-3 MiB less.
 * Neither moved the CPU a status request costs the server beyond the noise;
 * in a burst (a deploy followed by 100 SSE streams) the scavenges took ~80 ms
 * of CPU against under 10 ms without them.
 * Set at run time because `node --max-semi-space-size` would have to be on
 * the command line of every way the server is started.
 */
export function limitServerHeap(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--optimize-for-size");
}

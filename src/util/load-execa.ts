import type { execa } from "execa";

/**
 * execa, loaded on first use. Importing it costs ~200 ms of start-up, which
 * commands that run no child process (sarge list, sarge status) must not pay.
 */
export async function loadExeca(): Promise<typeof execa> {
  return (await import("execa")).execa;
}

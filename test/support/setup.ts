/** vitest setupFiles: whatever sarge process a test spawned and left running is killed when the test ends, passed or failed. */
import { afterEach, beforeEach } from "vitest";
import { liveSince, startedCount } from "./cli.js";

let mark = 0;
beforeEach(() => {
  mark = startedCount();
});
afterEach(async () => {
  await Promise.all(liveSince(mark).map((sarge) => sarge.kill()));
});

import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, instanceLogPath, type HomePaths } from "../../../src/home/paths.js";
import { followLog, readLogTail } from "../../../src/instance/logs.js";
import { emptyState, writeState } from "../../../src/instance/state.js";
import { waitFor } from "../../support/wait.js";

const ID = "web-abc123";

describe("sarge logs", () => {
  let paths: HomePaths;
  let log: string;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-logs-")));
    mkdirSync(paths.log, { recursive: true });
    const instance = { id: ID, proc: "web", release: 1, state: "active" as const, port: 0, commit: null, command: "", envKey: null, configEnv: {}, createdAt: "", activatedAt: "", retiredAt: null };
    writeState(paths, { ...emptyState(), instances: { [ID]: instance } });
    log = instanceLogPath(paths, ID);
    writeFileSync(log, Array.from({ length: 20 }, (_, index) => `old line ${index}\n`).join(""));
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("-n 0 shows no line, not the whole file", () => {
    expect(readLogTail(paths, ID, 0).text).toBe("");
    expect(readLogTail(paths, ID, 2).text).toBe("old line 18\nold line 19");
  });

  it("-f loses nothing appended just before a copy-and-truncate rotation", async () => {
    let out = "";
    const stop = new AbortController();
    const following = followLog(paths, ID, 0, (text) => (out += text), stop.signal);
    try {
      appendFileSync(log, "seen before the rotation\n");
      await waitFor(() => out.includes("seen before the rotation"), "the follower to print the first appended line");
      // between two of the follower's reads: a line lands, the supervisor copies the log to .1 and empties it, a new line lands
      appendFileSync(log, "appended just before the rotation\n");
      copyFileSync(log, `${log}.1`);
      truncateSync(log, 0);
      appendFileSync(log, "after the rotation\n");
      await waitFor(() => out.includes("after the rotation"), "the follower to print the line after the rotation");
      expect(out).toBe("seen before the rotation\nappended just before the rotation\nafter the rotation\n");
    } finally {
      stop.abort();
      await following;
    }
  });
});

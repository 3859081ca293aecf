import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { deployFreezePath } from "../../../src/home/deploy-freeze.js";
import { homePaths } from "../../../src/home/paths.js";
import { StatusCache, type HomeStatus } from "../../../src/serve/status-cache.js";
import { waitFor } from "../../support/wait.js";

describe("StatusCache", () => {
  const root = mkdtempSync(join(tmpdir(), "sarge-status-cache-"));
  const paths = homePaths(root);
  mkdirSync(paths.etc, { recursive: true });
  mkdirSync(join(root, "var"), { recursive: true });
  writeFileSync(paths.state, "{}");
  writeFileSync(paths.config, "port_range: 1-2\n");
  let looks = 0;
  const look = async (): Promise<HomeStatus> => {
    looks++;
    return { rows: [], recorded: null, checkedAt: String(looks) };
  };
  let cache: StatusCache | null = null;
  const open = (maxAgeMs: number) => (cache = new StatusCache(paths, { maxAgeMs, keepWarmMs: 60_000 }, look));

  afterEach(() => {
    cache?.close();
    looks = 0;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("answers every request within the freshness from one look, however many come at once", async () => {
    const status = open(60_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => status.get()));
    expect(answers.map((answer) => answer.checkedAt)).toEqual(Array(20).fill("1"));
    expect((await status.get()).checkedAt).toBe("1");
  });

  it("looks again at once when state.json, the deploy lock or the config changed", async () => {
    const status = open(60_000);
    expect((await status.get()).checkedAt).toBe("1");
    writeFileSync(paths.state, '{"lastRelease": 2}');
    expect((await status.get()).checkedAt).toBe("2");
    writeFileSync(deployFreezePath(paths), '{"reason":"audit","who":"ann","since":"2026-01-01T00:00:00Z"}');
    expect((await status.get()).checkedAt).toBe("3");
    rmSync(deployFreezePath(paths));
    expect((await status.get()).checkedAt).toBe("4");
    writeFileSync(paths.config, "port_range: 1-3\n");
    expect((await status.get()).checkedAt).toBe("5");
  });

  it("keeps looking in the background while asked, so an answer is never older than maxAgeMs", async () => {
    const status = open(200);
    const first = await status.get();
    await waitFor(() => looks >= 3, "two more looks in the background", 10_000, 20);
    const later = await status.get();
    expect(Number(later.checkedAt)).toBeGreaterThan(Number(first.checkedAt));
  });
});

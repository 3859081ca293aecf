import { appendFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tryWatch, watchInFolder } from "../../../src/util/watch-file.js";
import { waitFor } from "../../support/wait.js";

describe("watching a file through its folder", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sarge-watch-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("sees a file that was not there yet being created, written and removed", async () => {
    const file = join(dir, "deploy.lock");
    let changes = 0;
    const watcher = watchInFolder(file, () => changes++)!;
    try {
      writeFileSync(file, "holder");
      await waitFor(() => changes >= 1, "the creation to be seen", 10_000);
      const created = changes;
      appendFileSync(file, " more");
      await waitFor(() => changes > created, "the write to be seen", 10_000);
      const written = changes;
      unlinkSync(file);
      await waitFor(() => changes > written, "the removal to be seen", 10_000);
    } finally {
      watcher.close();
    }
  });

  it("gives null for what cannot be watched, so the caller's poll looks instead", () => {
    expect(tryWatch(join(dir, "absent"), () => undefined)).toBeNull();
    expect(watchInFolder(join(dir, "absent-folder", "file"), () => undefined)).toBeNull();
  });
});

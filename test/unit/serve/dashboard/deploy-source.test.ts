import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, type HomePaths } from "../../../../src/home/paths.js";
import { commitChoice } from "../../../../src/serve/dashboard/deploy-source.js";
import { minimalConfig } from "../../home/config-text.js";

describe("the commits /deploy offers", () => {
  let paths: HomePaths;
  beforeEach(() => {
    paths = homePaths(mkdtempSync(join(tmpdir(), "sarge-deploy-source-")));
    mkdirSync(paths.etc, { recursive: true });
  });
  afterEach(() => rmSync(paths.root, { recursive: true, force: true }));

  it("are not waited for past the deadline when the repository does not answer: the page says so", async () => {
    // a repository server that takes the connection and never answers
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as { port: number };
    writeFileSync(join(paths.etc, "sarge.yaml"), `${minimalConfig}webhook:\n  repository: http://127.0.0.1:${port}/app.git\n  branch: main\n`);
    try {
      const started = Date.now();
      const choice = await commitChoice(paths, 300);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(choice).toEqual({
        repository: `http://127.0.0.1:${port}/app.git`,
        branch: "main",
        commits: [],
        error: "the repository has not answered within 0.3 s (the fetch goes on: reload the page in a moment, or upload an archive)",
      });
    } finally {
      // the fetch that goes on fails once the server is gone
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

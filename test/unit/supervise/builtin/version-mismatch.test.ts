import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { homePaths } from "../../../../src/home/paths.js";
import { connectBuiltin } from "../../../../src/supervise/builtin/client.js";
import { restartDaemonOnto } from "../../../../src/supervise/builtin/handover.js";
import { readLines } from "../../../../src/supervise/builtin/line-reader.js";
import { sargeVersion } from "../../../../src/util/version.js";

/** A daemon of another sarge: answers ping with `version` (none: older than versions in the protocol) and knows nothing else. */
async function olderDaemon(version?: string): Promise<{ paths: ReturnType<typeof homePaths>; server: Server; root: string }> {
  const root = mkdtempSync(join(tmpdir(), "sarge-mismatch-"));
  const paths = homePaths(root);
  mkdirSync(paths.run, { recursive: true });
  const server = createServer((socket) =>
    readLines(socket, 1 << 20, {
      line: (line) => {
        const { id, method } = JSON.parse(line) as { id: number; method: string };
        const answer = method === "ping" ? { id, result: { pid: 4242, ...(version ? { version } : {}) } } : { id, error: `unknown method ${JSON.stringify(method)}` };
        socket.write(JSON.stringify(answer) + "\n");
      },
      overflow: () => socket.destroy(),
    }),
  );
  await new Promise<void>((resolve) => server.listen(paths.supervisorSocket, resolve));
  return { paths, server, root };
}

describe("a builtin daemon of another sarge version", () => {
  const opened: Array<{ server: Server; root: string }> = [];
  afterEach(async () => {
    for (const { server, root } of opened.splice(0)) {
      await new Promise((resolve) => server.close(resolve));
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a request it does not know fails with both versions and what fixes it", async () => {
    const daemon = await olderDaemon("0.0.9");
    opened.push(daemon);
    const client = await connectBuiltin(daemon.paths);
    try {
      expect(await client.daemon()).toEqual({ pid: 4242, version: "0.0.9" });
      await expect(client.handover()).rejects.toThrow(
        `the supervisor runs sarge 0.0.9, this is sarge ${sargeVersion()}; run \`sarge upgrade\` (or restart the supervisor): it cannot do this (unknown method "handover")`,
      );
    } finally {
      await client.close();
    }
  });

  it("upgrade leaves a daemon without handover running and says a restart finishes it", async () => {
    const daemon = await olderDaemon();
    opened.push(daemon);
    expect(await restartDaemonOnto(daemon.paths, sargeVersion())).toEqual({ kind: "restart needed", pid: 4242, version: null });
  });
});

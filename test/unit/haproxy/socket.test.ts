import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SargeError } from "../../../src/util/errors.js";
import { socketCommand } from "../../../src/haproxy/socket.js";

const dir = mkdtempSync(join(tmpdir(), "sarge-haproxy-sock-"));
const servers: Server[] = [];
const accepted = new Set<Socket>();
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for HAProxy's CLI: reads one line, answers only after the client half-closes, then closes. */
function fakeCli(path: string, answer: (command: string) => string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let input = "";
    socket.on("data", (d) => (input += d.toString()));
    socket.on("end", () => socket.end(answer(input.trim())));
  });
  servers.push(server);
  return new Promise((r) => server.listen(path, () => r(server)));
}

describe("socketCommand", () => {
  it("sends one line, half-closes, and returns the whole reply", async () => {
    const path = join(dir, "a.sock");
    await fakeCli(path, (c) => `you said: ${c}\n`);
    expect(await socketCommand(path, "show info", "admin socket")).toBe("you said: show info\n");
  });

  it("retries while nothing listens yet (HAProxy starting or reloading)", async () => {
    const path = join(dir, "b.sock");
    setTimeout(() => void fakeCli(path, () => "late\n"), 150);
    expect(await socketCommand(path, "show proc", "master socket", { retryMs: 2_000 })).toBe("late\n");
  });

  it("says what is wrong when HAProxy is not there", async () => {
    const error = await socketCommand(join(dir, "none.sock"), "show info", "admin socket", { retryMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SargeError);
    expect((error as Error).message).toMatch(/^HAProxy admin socket did not answer "show info": .*none\.sock does not exist \(is HAProxy running\?\)$/);
  });

  it("gives up on a socket that accepts but never answers", async () => {
    const path = join(dir, "c.sock");
    const server = createServer({ allowHalfOpen: true }, (socket) => accepted.add(socket)); // never answers
    servers.push(server);
    await new Promise<void>((r) => server.listen(path, r));
    await expect(socketCommand(path, "show stat", "admin socket", { replyTimeoutMs: 100 })).rejects.toThrow(/no reply within 100 ms/);
  });
});

/**
 * The push's end of `sarge hold` (src/push/ssh-session.ts) against a stand-in
 * for ssh: a shell that says it holds the lock, reads one request and ends
 * without answering, as a dropped session does.
 */
import { describe, expect, it } from "vitest";
import { sshSession } from "../../../src/push/ssh-session.js";

const droppedHold = `sh -c 'echo "held tok-1 prepares runs list activate verify"; read request' --`;

describe("a hold session that ends on its own", () => {
  it("fails the request it was given and every later one at once, says it was lost, and takes no more words", async () => {
    const session = sshSession({ user: null, host: "h1", port: null, home: "/srv/app" }, droppedHold);
    const lock = await session.hold(0, {});
    expect(lock.token).toBe("tok-1");
    expect(lock.lost?.()).toBe(false);

    const first = await lock.run!({ command: "list" });
    expect(first).toMatchObject({ code: 1, stderr: expect.stringContaining("sarge: the hold session ended") });
    expect(lock.lost?.()).toBe(true);
    const later = await lock.run!({ command: "activate", release: 5, switched: true, prepare: true });
    expect(later).toEqual(first);
    expect(() => lock.tell?.("go")).not.toThrow();
    await lock.release();
    expect(lock.lost?.()).toBe(true);
  });

  it("is not lost when the push itself lets it go", async () => {
    const session = sshSession({ user: null, host: "h1", port: null, home: "/srv/app" }, droppedHold);
    const lock = await session.hold(0, {});
    await lock.release();
    expect(lock.lost?.()).toBe(false);
  });
});

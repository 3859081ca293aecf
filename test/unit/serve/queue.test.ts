/**
 * The release queue's own logic (src/serve/queue.ts) with a fake child in
 * place of `sarge deploy`: superseding, cancel of a waiting and of a running
 * release, the timeouts, and what a restarted server makes of the records a
 * previous one left. test/e2e/serve-queue.test.ts runs it for real.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readState, writeState } from "../../../src/instance/state.js";
import { appendHistory, pendingRelease } from "../../../src/release/history.js";
import { ReleaseQueue, type QueueTimeouts } from "../../../src/serve/queue.js";
import type { DeployChild } from "../../../src/serve/queue/child.js";
import { newRecord, saveRecord, type QueueRecord } from "../../../src/serve/queue/record.js";
import { spoolPath } from "../../../src/serve/queue/spool.js";
import { GitRepo } from "../../support/git-repo.js";
import { createUnitHome, type UnitHome } from "../../support/unit-home.js";
import { waitFor } from "../../support/wait.js";

/** The children the queue started, by release id: each ends when the test says so. */
const children = new Map<number, { signals: string[]; exit: (code: number | null) => void }>();

vi.mock("../../../src/serve/queue/child.js", async (original) => ({
  ...(await original<typeof import("../../../src/serve/queue/child.js")>()),
  startDeployChild: (options: { id: number; archive: Readable }): DeployChild => {
    // read to the end, and a failed read ends the upload, as the real child's stdin does
    options.archive.once("error", () => undefined).resume();
    let exit!: (code: number | null) => void;
    const exited = new Promise<number | null>((resolve) => (exit = resolve));
    const child = { signals: [] as string[], exit };
    children.set(options.id, child);
    return { pid: 0, pidStart: null, exited, signal: (signal) => void child.signals.push(signal) };
  },
}));

let home: UnitHome;
let queue: ReleaseQueue;
const slow: QueueTimeouts = { deployMs: 60 * 60_000, idleMs: 60 * 60_000 };

async function startQueue(timeouts = slow): Promise<ReleaseQueue> {
  queue = new ReleaseQueue(home.paths, () => timeouts);
  queue.start();
  return queue;
}
const body = (text = "a tar") => Readable.from([Buffer.from(text)]);
const submit = (request: { body: Readable } | { ref: { ref: string } } = { body: body() }) => queue.submit({ kind: "deploy", procs: ["web"], who: "ann", ...request });
const state = (id: number) => queue.get(id)?.state;
const child = (id: number) => waitFor(() => children.get(id), `release ${id}'s child`, 5000, 10);

beforeEach(async () => {
  children.clear();
  home = await createUnitHome();
});
afterEach(async () => {
  queue?.close();
  await home.destroy();
});

describe("the release queue", () => {
  it("runs one at a time, and a newer request supersedes the one waiting", async () => {
    await startQueue();
    const first = await submit();
    const second = await submit();
    const third = await submit();
    expect([first.state, second.state, third.state]).toEqual(["running", "queued", "queued"]);
    expect(queue.get(second.id)).toMatchObject({ state: "superseded", supersededBy: third.id });
    expect(existsSync(spoolPath(home.paths, second.id))).toBe(false);
    expect(existsSync(spoolPath(home.paths, third.id))).toBe(true);
    (await child(first.id)).exit(0);
    await child(third.id);
    expect([state(first.id), state(third.id)]).toEqual(["succeeded", "running"]);
    (await child(third.id)).exit(1);
    await waitFor(() => state(third.id) === "failed", "the third to fail");
    expect(queue.get(third.id)!.error).toBe("sarge deploy exited with code 1");
  });

  it("supersedes at once a request whose upload ends after a newer one was queued", async () => {
    await startQueue();
    await submit();
    const slowUpload = new PassThrough();
    const older = submit({ body: slowUpload });
    const newer = await submit();
    slowUpload.end("a tar");
    expect(await older).toMatchObject({ state: "superseded" });
    expect(state(newer.id)).toBe("queued");
  });

  it("cancels a waiting release at once, and a running one with SIGTERM while it has not begun its switch", async () => {
    await startQueue();
    const running = await submit();
    const waiting = await submit();
    expect(queue.cancel(waiting.id, "bob")).toMatchObject({ state: "cancelled", error: "cancelled by bob while it waited" });
    expect(existsSync(spoolPath(home.paths, waiting.id))).toBe(false);
    queue.cancel(running.id, "bob");
    expect((await child(running.id)).signals).toEqual(["SIGTERM"]);
    (await child(running.id)).exit(5);
    await waitFor(() => state(running.id) === "cancelled", "the running release to end cancelled");
    expect(() => queue.cancel(running.id, "bob")).toThrow(`release ${running.id} has already ended (cancelled)`);
  });

  it("refuses to cancel a release whose switch has begun: 409, use rollback", async () => {
    await startQueue();
    const running = await submit();
    const current = readState(home.paths);
    writeState(home.paths, { ...current, pendingRelease: { ...pendingRelease("deploy", running.id, ["web"], [], new Date()), switchingSince: new Date().toISOString() } });
    expect(() => queue.cancel(running.id, "bob")).toThrow(expect.objectContaining({ statusCode: 409, message: `release ${running.id} has switched; use rollback` }));
    expect((await child(running.id)).signals).toEqual([]);
  });

  it("fails a deploy that runs past serve.deploy_timeout, and one silent past serve.idle_timeout, saying which", async () => {
    await startQueue({ deployMs: 1000, idleMs: 60 * 60_000 });
    const long = await submit();
    await waitFor(async () => (await child(long.id)).signals.length > 0, "the deploy timeout to stop it", 10_000);
    (await child(long.id)).exit(5);
    await waitFor(() => state(long.id) === "failed", "it to fail");
    expect(queue.get(long.id)!.error).toBe("timed out after 1 s (serve.deploy_timeout)");
    queue.close();

    await startQueue({ deployMs: 60 * 60_000, idleMs: 1000 });
    const silent = await submit();
    await waitFor(async () => (await child(silent.id)).signals.length > 0, "the idle timeout to stop it", 10_000);
    (await child(silent.id)).exit(5);
    await waitFor(() => state(silent.id) === "failed", "it to fail");
    expect(queue.get(silent.id)!.error).toBe("timed out: no output for 1 s (serve.idle_timeout)");
  });

  it("reconciles what a killed server left: a dead running deploy from history or as interrupted, a waiting upload runs, one without its archive fails", async () => {
    const record = (id: number, fields: Partial<QueueRecord>): QueueRecord => newRecord({ id, procs: ["web"], who: "ann", source: "api", ...fields });
    const dead = { state: "running" as const, pid: 999_999_999, pidStart: "1" };
    saveRecord(home.paths, record(1, dead));
    appendHistory(home.paths, { ...pendingRelease("deploy", 1, ["web"], [], new Date()), finishedAt: new Date().toISOString(), durationMs: 5, outcome: "failed", error: "deploy failed at readiness: boom" });
    saveRecord(home.paths, record(2, dead));
    saveRecord(home.paths, record(3, {}));
    saveRecord(home.paths, record(4, {}));
    mkdirSync(dirname(spoolPath(home.paths, 4)), { recursive: true });
    writeFileSync(spoolPath(home.paths, 4), "a tar");
    await startQueue();
    expect(queue.get(1)).toMatchObject({ state: "failed", error: "deploy failed at readiness: boom" });
    expect(queue.get(2)).toMatchObject({ state: "failed", error: "interrupted: the server stopped while it ran; sarge's recovery undid it" });
    expect(queue.get(3)).toMatchObject({ state: "failed", error: "the server restarted before it ran, and its archive was not kept: submit it again" });
    await child(4);
    expect(state(4)).toBe("running");
  });

  it("keeps a waiting release by ref across a restart, and fails it when webhook.repository is gone by the time it runs", async () => {
    await startQueue();
    const running = await submit();
    const byRef = await submit({ ref: { ref: "main" } });
    expect(queue.get(byRef.id)).toMatchObject({ state: "queued", ref: { ref: "main" } });
    queue.close();
    (await child(running.id)).exit(0);
    await waitFor(() => state(running.id) === "succeeded", "the running release to end");
    await startQueue();
    await waitFor(() => state(byRef.id) === "failed", "the release by ref to run, and fail");
    expect(queue.get(byRef.id)!.error).toBe(`webhook.repository is no longer set in ${home.paths.config}: nothing to fetch main from`);
  });

  it("puts back a release by ref that a killed server left fetching (no deploy began), or lets the newer one waiting supersede it", async () => {
    const repository = GitRepo.init(join(home.paths.root, "origin"));
    repository.commit({ Procfile: "web: python app.py\n" });
    appendFileSync(home.paths.config, `\nwebhook:\n  repository: ${repository.dir}\n`);
    const fetching = (id: number) => newRecord({ id, procs: ["web"], who: "ann", source: "webhook", state: "running", startedAt: new Date().toISOString(), ref: { ref: "main" } });
    saveRecord(home.paths, fetching(1));
    await startQueue();
    await child(1);
    expect(queue.get(1)).toMatchObject({ state: "running", error: null });

    children.get(1)!.exit(0);
    await waitFor(() => state(1) === "succeeded", "release 1 to end");
    queue.close();
    saveRecord(home.paths, fetching(2));
    saveRecord(home.paths, newRecord({ id: 3, procs: ["web"], who: "ann", source: "webhook", ref: { ref: "main" } }));
    await startQueue();
    expect(queue.get(2)).toMatchObject({ state: "superseded", supersededBy: 3 });
    await child(3);
    expect(children.has(2)).toBe(false);
  });

  it("cancels a release by ref while its source is fetched: no deploy starts, not even after a restart", async () => {
    const repository = GitRepo.init(join(home.paths.root, "origin"));
    repository.commit({ Procfile: "web: python app.py\n" });
    appendFileSync(home.paths.config, `\nwebhook:\n  repository: ${repository.dir}\n`);
    await startQueue();
    const byRef = await submit({ ref: { ref: "main" } });
    expect(state(byRef.id)).toBe("running");
    // recorded at once: a server killed before the fetch ends does not run it after its restart
    expect(queue.cancel(byRef.id, "bob")).toMatchObject({ state: "cancelled", error: "cancelled while its source was fetched" });
    queue.close();
    await startQueue();
    expect(queue.get(byRef.id)).toMatchObject({ state: "cancelled", error: "cancelled while its source was fetched" });
    const later = await submit({ ref: { ref: "main" } });
    await child(later.id);
    expect(children.has(byRef.id)).toBe(false);
  });
});

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHistory } from "../../src/release/history.js";
import { readState } from "../../src/instance/state.js";
import { releaseLogPath } from "../../src/serve/log-stream.js";
import { helloVersion } from "../support/apps.js";
import { expectNoLeftovers, failuresOf } from "../support/crash.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { get, startLoad } from "../support/load.js";
import { processesUsing } from "../support/processes.js";
import { api, logText, makeTokens, readEvents, startServe, type ServeHandle, type TokenSet } from "../support/serve.js";
import { waitFor } from "../support/wait.js";

interface Queued {
  id: number;
  state: string;
  error: string | null;
  who: string;
}

describe("sarge serve's release queue (real server, HAProxy, pip)", () => {
  const home = useDeployedHome();
  let serve: ServeHandle;
  let tokens: TokenSet;

  beforeAll(async () => {
    tokens = await makeTokens(home);
    serve = await startServe(home);
  });
  afterAll(async () => serve?.stop());

  const post = (archive: Buffer, query = "") =>
    api(`${serve.url}/api/v1/releases${query}`, tokens.deployer, { method: "POST", body: archive, headers: { "content-type": "application/x-tar" } });
  const queued = async (id: number): Promise<Queued> => ((await api(`${serve.url}/api/v1/queue`, tokens.viewer)).body as Queued[]).find((record) => record.id === id)!;
  const ended = (id: number): Promise<Queued> =>
    waitFor(
      async () => {
        const record = await queued(id);
        return ["succeeded", "failed", "cancelled", "superseded"].includes(record?.state) ? record : null;
      },
      `release ${id} to end`,
      120_000,
      100,
    );

  it("deploys a tar body under load with 0 failed requests, run by the home's bin/sarge; the id is history's release number and who is the token", async () => {
    // the home's sarge marked, as another copy (an upgrade) would be: the server runs from the checkout
    const bin = join(home.root, "bin", "sarge");
    renameSync(bin, `${bin}.pinned`);
    writeFileSync(bin, `#!/bin/sh\necho "the home's bin/sarge runs: $1" >&2\nexec "$0.pinned" "$@"\n`, { mode: 0o755 });
    const load = startLoad(home.webPort, { workers: 2 });
    const answer = await post(helloVersion("v2"));
    expect(answer.status, answer.text).toBe(202);
    const { id } = answer.body as Queued;
    expect(await ended(id)).toMatchObject({ state: "succeeded", who: "bob-deployer" });
    renameSync(`${bin}.pinned`, bin);
    expect(readFileSync(releaseLogPath(home.paths, id), "utf8")).toContain("the home's bin/sarge runs: deploy\n");
    const samples = await load.stop();
    console.log(`deploy through the API: ${failuresOf(samples).length} failed of ${samples.length} requests`);
    expect(failuresOf(samples)).toEqual([]);
    expect(readHistory(home.paths).at(-1)).toMatchObject({ release: id, outcome: "success", user: "bob-deployer" });
    expect(await get(home.webPort)).toContain("(v2, ");
  });

  it("refuses a deploy while deploys are locked (423 with the reason and who), until unlocked", async () => {
    const lock = await api(`${serve.url}/api/v1/lock`, tokens.deployer, { method: "POST", body: JSON.stringify({ reason: "release freeze" }), headers: { "content-type": "application/json" } });
    expect(lock.status, lock.text).toBe(200);
    const refused = await post(helloVersion("v3"));
    expect(refused.status).toBe(423);
    expect(refused.body).toEqual({ error: expect.stringMatching(/^deploys are locked by bob-deployer since \S+: release freeze; an admin may force it/) });
    expect((await api(`${serve.url}/api/v1/lock`, tokens.deployer, { method: "DELETE" })).status).toBe(200);
  });

  it("refuses a tar that fails the archive checks with the CLI's message, and the live version stays", async () => {
    const answer = await post(Buffer.from("this is not a tar archive at all, just text that goes on for a while ".repeat(20)));
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body).toEqual({ error: expect.stringMatching(/^deploy failed at unpack: /) });
    expect(await get(home.webPort)).toContain("(v2, ");
  });

  it("runs five deploys POSTed at once as succeeded, superseded ×3, succeeded, and the newest code serves", async () => {
    const gate = join(home.root, "release-gate");
    const held = (version: string) => helloVersion(version, { Procfile: `web: python app.py\nrelease: while [ ! -e ${gate} ]; do sleep 0.05; done\n` });
    const first = await post(held("q1"));
    expect(first.status, first.text).toBe(202);
    // the four that follow must find it running (a moment of not-idle, such as a look at status holding the deploy lock, queues it briefly)
    await waitFor(async () => (await queued((first.body as Queued).id)).state === "running", "the first release to run", 10_000, 50);
    const rest = await Promise.all(["q2", "q3", "q4", "q5"].map((version) => post(held(version))));
    for (const answer of rest) expect(answer.status, answer.text).toBe(202);
    const ids = [first, ...rest].map((answer) => (answer.body as Queued).id).sort((a, b) => a - b);
    // the one that waits has no output yet: its log is an empty page, and a stream opened now waits for it to run and end
    expect(await queued(ids[4]!)).toMatchObject({ state: "queued" });
    const waitingLog = `${serve.url}/api/v1/releases/${ids[4]}/log`;
    expect((await api(waitingLog, tokens.viewer)).body).toEqual({ offset: 0, next: 0, size: 0, text: "", end: null });
    const waitingStream = readEvents(waitingLog, tokens.viewer, { timeoutMs: 120_000 });
    writeFileSync(gate, "");
    const states = await Promise.all(ids.map(async (id) => (await ended(id)).state));
    expect(states).toEqual(["succeeded", "superseded", "superseded", "superseded", "succeeded"]);
    const streamed = await waitingStream;
    // every byte once, in order, up to the outcome's record (the deploy's last line may follow it)
    expect(logText(streamed)).toContain(": ready on port ");
    expect(readFileSync(releaseLogPath(home.paths, ids[4]!), "utf8").startsWith(logText(streamed))).toBe(true);
    expect(streamed.at(-1)).toMatchObject({ event: "end", data: JSON.stringify({ release: ids[4], outcome: "success", error: null }) });
    const newest = rest.find((answer) => (answer.body as Queued).id === ids[4])!;
    const version = ["q2", "q3", "q4", "q5"][rest.indexOf(newest)]!;
    expect(await get(home.webPort)).toContain(`(${version}, `);
  });

  it("cancels a deploy during its environment build under load: 0 failed, nothing left; cancelling it again is 409", async () => {
    const load = startLoad(home.webPort, { workers: 2 });
    const answer = await post(helloVersion("v9", { "requirements.txt": "greeting==1.0\n# cancelled through the API\n" }));
    const { id } = answer.body as Queued;
    await waitFor(() => processesUsing(home.paths.deploy).some((p) => p.cmdline.includes("pip")), "pip to run", 60_000, 5);
    const cancel = await api(`${serve.url}/api/v1/releases/${id}/cancel`, tokens.deployer, { method: "POST" });
    expect(cancel.status, cancel.text).toBe(200);
    expect(await ended(id)).toMatchObject({ state: "cancelled", error: "deploy cancelled at environment" });
    const samples = await load.stop();
    expect(failuresOf(samples)).toEqual([]);
    await expectNoLeftovers(home);
    const again = await api(`${serve.url}/api/v1/releases/${id}/cancel`, tokens.deployer, { method: "POST" });
    expect([again.status, again.body]).toEqual([409, { error: `release ${id} has already ended (cancelled)` }]);
  });

  it("refuses to cancel a release after its switch with 409 'use rollback', and the release completes", async () => {
    // the serving version ignores SIGTERM, so the release stays in its retire step (after the switch) for the stop timeout
    const stubborn = await post(helloVersion("t1", { Procfile: "web: trap '' TERM; exec python app.py\n" }));
    expect(await ended((stubborn.body as Queued).id)).toMatchObject({ state: "succeeded" });
    const { id } = (await post(helloVersion("t2"))).body as Queued;
    await waitFor(() => readState(home.paths).pendingRelease?.release === id && readState(home.paths).pendingRelease?.switchingSince !== undefined, "the switch to begin", 120_000, 20);
    const cancel = await api(`${serve.url}/api/v1/releases/${id}/cancel`, tokens.deployer, { method: "POST" });
    expect([cancel.status, cancel.body]).toEqual([409, { error: `release ${id} has switched; use rollback` }]);
    expect(await ended(id)).toMatchObject({ state: "succeeded" });
    expect(await get(home.webPort)).toContain("(t2, ");
  });

  it("fails a stuck deploy at serve.idle_timeout and serve.deploy_timeout, saying which, and the live version stays", async () => {
    const config = readFileSync(home.paths.config, "utf8");
    const stuck = (hook: string) => helloVersion("stuck", { Procfile: `web: python app.py\nrelease: ${hook}\n` });
    try {
      writeFileSync(home.paths.config, `${config}\nserve:\n  idle_timeout: 3s\n`);
      const silent = (await post(stuck("sleep 600"))).body as Queued;
      expect(await ended(silent.id)).toMatchObject({ state: "failed", error: "timed out: no output for 3 s (serve.idle_timeout)" });
      writeFileSync(home.paths.config, `${config}\nserve:\n  deploy_timeout: 4s\n`);
      const chatty = (await post(stuck("while true; do echo still going; sleep 0.2; done"))).body as Queued;
      expect(await ended(chatty.id)).toMatchObject({ state: "failed", error: "timed out after 4 s (serve.deploy_timeout)" });
    } finally {
      writeFileSync(home.paths.config, config);
    }
    expect(await get(home.webPort)).toContain("(t2, ");
    await expectNoLeftovers(home);
  });

  it("moves on after a kill -9 of the server mid-deploy: the running deploy is followed to its end, the waiting one starts within 2 s", async () => {
    const gate = join(home.root, "restart-gate");
    const held = (version: string) => helloVersion(version, { Procfile: `web: python app.py\nrelease: while [ ! -e ${gate} ]; do sleep 0.05; done\n` });
    const running = (await post(held("k1"))).body as Queued;
    await waitFor(async () => (await queued(running.id)).state === "running", "the first release to run", 10_000, 50);
    const waiting = (await post(held("k2"))).body as Queued;
    expect(waiting.state).toBe("queued");
    await serve.process.kill();
    serve = await startServe(home, serve.port);
    writeFileSync(gate, "");
    const [first, second] = [await ended(running.id), await ended(waiting.id)];
    expect([first.state, second.state]).toEqual(["succeeded", "succeeded"]);
    const startedAfter = Date.parse((second as Queued & { startedAt: string }).startedAt) - Date.parse((first as Queued & { finishedAt: string }).finishedAt);
    console.log(`after a server kill -9: the waiting release started ${startedAfter} ms after the followed one ended`);
    expect(startedAfter).toBeLessThan(2000);
    expect(await get(home.webPort)).toContain("(k2, ");
  });
});

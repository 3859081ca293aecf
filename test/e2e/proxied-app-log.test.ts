import { readFileSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reloadHaproxy } from "../../src/haproxy/reload.js";
import { showProc } from "../../src/haproxy/runtime.js";
import { useDeployedHome } from "../support/deployed-home.js";
import { waitFor } from "../support/wait.js";

function request(port: number, path: string, agent: Agent | false): Promise<void> {
  return new Promise((resolve, reject) =>
    httpGet({ host: "127.0.0.1", port, path, agent }, (res) => res.resume().on("end", resolve)).on("error", reject),
  );
}

/**
 * HAProxy closes the server connections it drops (when a client leaves, when it purges idle ones,
 * when an old worker exits after a reload) with a reset, by design; examples/hello logged a
 * ~900-byte ConnectionResetError traceback for each, almost one per request.
 */
describe("examples/hello behind HAProxy", () => {
  const home = useDeployedHome();

  it("logs one line per request and no traceback once HAProxy has dropped its connections to it", async () => {
    const ownConnection = 20;
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
    for (let i = 0; i < ownConnection; i++) await request(home.webPort, `/own-${i}`, false);
    for (let i = 0; i < 10; i++) await request(home.webPort, `/kept-${i}`, keepAlive);
    keepAlive.destroy();
    // an old worker exits once its connections are closed, idle ones to the app included
    const { previousWorkers } = await reloadHaproxy(home.paths);
    await waitFor(async () => (await showProc(home.paths)).oldWorkers.every((pid) => !previousWorkers.includes(pid)), "HAProxy's old worker to exit");

    const status = JSON.parse((await home.sarge(["status", "--json"])).stdout)[0];
    // the last line, straight to the instance: what the app logged about the closed connections is before it
    await request(status.port, "/last", false);
    const logFile = join(home.paths.log, `${status.active}.log`);
    await waitFor(() => readFileSync(logFile, "utf8").includes('"GET /last HTTP/1.1" 200'), "the instance to log the last request");
    const log = readFileSync(logFile, "utf8");
    expect(log.match(/"GET \/own-\d+ HTTP\/1\.1" 200/g)).toHaveLength(ownConnection);
    expect(log.match(/"GET \/kept-\d+ HTTP\/1\.1" 200/g)).toHaveLength(10);
    expect(log).not.toMatch(/Traceback|ConnectionResetError/);
  });
});

import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { SargeConfig } from "../../../src/home/config-types.js";
import { verifyStable } from "../../../src/instance/verify.js";
import { runSarge } from "../../support/cli.js";
import { freePortBlock } from "../../support/ports.js";

/** A stable address whose /up answers 200 `healthy` times, then 500. */
async function stableAddress(healthy: number): Promise<{ config: SargeConfig; probes: () => number; server: Server }> {
  const port = await freePortBlock(1);
  let probes = 0;
  const server = createServer((_, response) => {
    probes++;
    response.writeHead(probes <= healthy ? 200 : 500).end();
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  const config = { portMap: { web: { host: "127.0.0.1", port } }, health: { httpPath: "/up" } } as unknown as SargeConfig;
  return { config, probes: () => probes, server };
}

describe("sarge verify", () => {
  let server: Server | null = null;
  afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  it("--passes 3 probes until three have passed in a row, then stops", async () => {
    const address = await stableAddress(100);
    server = address.server;
    const result = await verifyStable(address.config, ["web"], 0, 3);
    expect(result.probes).toBe(3);
    expect(address.probes()).toBe(3);
  });

  it("fails at the first probe that does not pass, before its passes are done", async () => {
    const address = await stableAddress(1);
    server = address.server;
    await expect(verifyStable(address.config, ["web"], 0, 3)).rejects.toThrow(/^web failed verification on its stable address 127\.0\.0\.1:\d+ after \d+\.\ds: .*500/);
    expect(address.probes()).toBe(2);
  });

  it("without --passes and --for 0 it probes once", async () => {
    const address = await stableAddress(100);
    server = address.server;
    expect((await verifyStable(address.config, [], 0)).probes).toBe(1);
  });

  it("refuses a --passes that is not a number of probes", async () => {
    const result = await runSarge(["verify", "--passes", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('sarge: --passes "0": expected a number of probes, 1 or more');
  });
});

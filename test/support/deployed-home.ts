import { afterAll, beforeAll, expect } from "vitest";
import { helloVersion } from "./apps.js";
import { createTestHome, type TestHome, type TestHomeOptions } from "./home.js";

export interface DeployedHomeOptions extends TestHomeOptions {
  /** The archive deployed first (default examples/hello as "v1"); null deploys nothing. */
  app?: Buffer | null;
  /** The process types it deploys (default web). */
  procs?: string[];
}

/**
 * The home a describe block shares: created with its supervisor running and
 * `app` deployed before the block's first test (beforeAll), destroyed after
 * its last (afterAll), which fails if any process of the home was left over.
 * Returns the home; its fields can be used from the block's tests and hooks on.
 */
export function useDeployedHome(options: DeployedHomeOptions = {}): TestHome {
  let home: TestHome | undefined;
  beforeAll(async () => {
    home = await createTestHome(options);
    await home.startSupervisor();
    const app = options.app === undefined ? helloVersion("v1") : options.app;
    if (app === null) return;
    const first = await home.sarge(["deploy", "-", ...(options.procs ?? ["web"])], { input: app });
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    if (home) expect(await home.destroy()).toEqual([]);
  });
  return new Proxy({} as TestHome, {
    get(_, field) {
      if (!home) throw new Error("the deployed home is made in beforeAll: use it from tests and hooks");
      return home[field as keyof TestHome];
    },
  });
}

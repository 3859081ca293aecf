import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/support/setup.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // e2e files start real HAProxy/supervisors and python; two cores cannot run many at once
    maxConcurrency: 1,
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});

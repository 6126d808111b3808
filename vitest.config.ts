import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most files wait (on PostgreSQL, on worker processes, on timers) far more than they compute:
    // four at a time on two cores halves the suite's wall time, and the suite passes that busy
    // (ten .ci/run runs two at a time, each with two forks, on this 2-core machine).
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most files wait (on PostgreSQL, on worker processes, on timers) far more than they compute:
    // three at a time on two cores shortens the suite, within PostgreSQL's 100 connections (four
    // files at a time need more than 100). Two .ci/run at once still fail test/jobs/chaos.test.ts: its
    // killed worker restarts too slowly for the grant windows (issue 10).
    maxWorkers: 3,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});

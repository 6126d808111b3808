import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * The files that take longest (measured in .ci/run, 20-130 s each) start first: a fresh clone has
 * no timing cache, and vitest then orders by file size, which left the 27 s demo to start near the
 * end, alone, with the other workers done.
 */
const SLOWEST_FIRST = [
  "test/jobs/chaos.test.ts",
  "test/jobs/replicas.test.ts",
  "test/github/break-glass.test.ts",
  "test/github/merge.test.ts",
  "test/jobs/faults.test.ts",
  "test/sandbox/demo.test.ts",
  "test/jobs/aws-behaviour.test.ts",
  "test/inbox/inbox.test.ts",
  "test/api/http-api.test.ts",
  "test/cli/request.test.ts",
];

class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = SLOWEST_FIRST.findIndex((slow) => file.moduleId.endsWith(slow));
      return index === -1 ? SLOWEST_FIRST.length : index;
    };
    return sorted
      .map((file, order) => ({ file, order }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order)
      .map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most files wait (on PostgreSQL, on worker processes, on timers) far more than they compute:
    // three at a time on two cores shortens the suite, within PostgreSQL's 100 connections (four
    // files at a time need more than 100). Two .ci/run at once still fail test/jobs/chaos.test.ts: its
    // killed worker restarts too slowly for the grant windows (issue 10).
    maxWorkers: 3,
    // Each worker keeps its modules between files instead of loading Probot, the AWS SDK and
    // GitHub's schemas again for every file: imports took 2.2 s a file (278 s of a 440 s run); the
    // suite ran in 309 s this way (measured with --isolate=false). Files share no module state:
    // every file builds its own database, servers and Probot instance, and restores nock.
    isolate: false,
    sequence: { sequencer: SlowestFirst },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});

/**
 * The whole story on one machine: a merged pull request arrives as a signed webhook, the grant is
 * provisioned in the local Identity Center, the PR's sticky comment follows every state, and the
 * assignment is deleted at expiry. GitHub is intercepted at HTTP; AWS is the simulator over HTTP.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PullRequestReporter } from "../../src/github/grant-comments.js";
import { installationGateways } from "../../src/github/installation-gateway.js";
import { utc } from "../../src/github/markdown.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import {
  eventually,
  INSTANCE_ARN,
  PRODUCTION,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { seed, type SeededMerge } from "../support/merge-world.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe("merge to revoke", () => {
  let db: Knex;
  let aws: AwsWorld;
  let harness: Harness;
  let running: RunningWorker;
  let reporter: PullRequestReporter;
  let world: SeededMerge;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    aws = await startAwsWorld();
    harness = await startHarness({ db, now: aws.clock.now });
    reporter = new PullRequestReporter({ db, gatewayFor: installationGateways(harness.probot), log: silent, coalesceMs: 10 });
    running = await startTestWorker(db, aws, { reporter });
  });
  afterEach(async () => {
    await running.stop();
    await harness.stop();
    await aws.stop();
  });

  const grant = async () => (await db("grants").first()) as GrantRow | undefined;
  const comments = () => harness.github.repo.conversation.commentsOn(world.number);
  const state = async () => ({ grant: await grant(), assignments: aws.ic.assignments(), comments: comments() });

  it("provisions a merged request, reports each state in the one sticky comment, and revokes it at expiry", async () => {
    world = seed(harness.github);
    expect(await harness.deliver("pull_request", world.closed)).toBe(200);

    const active = await eventually(async () => ((await grant())?.status === "active" ? grant() : undefined), state);
    expect(aws.ic.assignments()).toEqual([
      {
        instanceArn: INSTANCE_ARN,
        accountId: PRODUCTION,
        permissionSetArn: aws.readOnly,
        principalType: "USER",
        principalId: aws.users.alice,
      },
    ]);
    await reporter.flush();
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain("### jitsudo: access active :white_check_mark:");
    // The truth about the end: a session opened before the deletion lasts the permission set's session duration (AWS's default hour).
    const sessionsUntil = (end: Date) => utc(new Date(end.getTime() + 3_600_000));
    expect(comments()[0]!.body).toContain(
      `| Status | **active** until ${utc(active.expires_at)}; sessions opened before then can last until ${sessionsUntil(active.expires_at)} (the permission set's session duration is 1h) |`,
    );

    aws.clock.advance(2 * 3_600_000);
    running.worker.wake();
    const revoked = await eventually(async () => ((await grant())?.status === "revoked" ? grant() : undefined), state);
    expect(aws.ic.assignments()).toEqual([]);
    await reporter.flush();
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain("### jitsudo: access ended");
    expect(comments()[0]!.body).toContain(
      `| Status | revoked at ${utc(revoked.ended_at!)}; sessions opened before ${utc(revoked.ended_at!)} can last until ${sessionsUntil(revoked.ended_at!)} (the permission set's session duration is 1h) |`,
    );
  });
});

/**
 * The true end of access (issue 14): a session opened before an assignment is deleted lasts the
 * permission set's session duration, so a rule's `max_session_duration: 1h` refuses a permission
 * set whose sessions last longer: always in the worker before anything is created, and on the pull
 * request once the worker has read that permission set's session duration. The pull request says
 * when access truly ends. Through Probot's webhook pipeline, the real worker and the local Identity
 * Center, whose AdministratorAccess here keeps sessions for 8 hours and ReadOnlyAccess for AWS's
 * default hour.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CHECK_NAME } from "../../src/github/check-run.js";
import { utc } from "../../src/github/markdown.js";
import { policyYaml } from "../support/policy-fixtures.js";
import { INSTANCE_ARN } from "../support/aws-world.js";
import { POLICY_FIXTURE, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const CAPPED = policyYaml({
  ...POLICY_FIXTURE,
  rules: [{ permission_sets: ["ReadOnlyAccess", "AdministratorAccess"], accounts: ["*"], max_duration: "8h", max_session_duration: "1h" }],
});
const ADMIN = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess");
const HOUR = 3_600_000;

describe("max_session_duration", () => {
  const world = useSecurityWorld();
  beforeAll(() => {
    world.aws.ic.setSessionDuration(INSTANCE_ARN, world.aws.admin, "PT8H");
  });

  const checkRun = (number: number) =>
    world.access.conversation.checkRuns
      .filter((run) => run.name === CHECK_NAME && run.headSha === world.access.pull(number).headSha)
      .at(-1);

  it("refuses a permission set whose sessions outlast the cap: in the worker first, then on the next pull request", async () => {
    await world.withGovernance({ policy: CAPPED }, async () => {
      // Nothing has read AdministratorAccess yet: the check can only warn; the worker refuses.
      const mark = world.mark();
      const first = world.openPull({ commits: [{ files: { [world.newPath()]: ADMIN } }] });
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      expect(checkRun(first)?.conclusion).toBe("success");
      expect(world.comment(first)).toContain("up to 8h, 1 approval, permission sets with sessions of at most 1h |");
      world.review(first, "dave");
      await world.merge(first, "squash");
      const [refused] = await world.grants(first);
      expect(refused!.status).toBe("failed");
      expect(refused!.failure_reason).toMatch(
        /^permission set "AdministratorAccess" has a session duration of 8h in Identity Center, longer than the 1h/,
      );
      expect(world.createsSince(mark)).toBe(0);
      expect(world.comment(first)).toContain("has a session duration of 8h in Identity Center, longer than the 1h its policy rule allows");

      // Now the server knows: the next request for it fails its check, at the permission_set line.
      const second = world.openPull({ commits: [{ files: { [world.newPath()]: ADMIN } }] });
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      const run = checkRun(second)!;
      expect(run.conclusion).toBe("failure");
      const annotation = run.annotations.find((candidate) => candidate.message.includes("session duration"));
      expect(annotation).toMatchObject({ start_line: 2, annotation_level: "failure" });
      expect(annotation!.message).toMatch(
        new RegExp(
          `^permission set "AdministratorAccess" has a session duration of 8h in Identity Center \\(read .* UTC, provisioning #${first}\\), longer than the 1h that rules\\[0\\]`,
        ),
      );
    });
  });

  it("grants a permission set within the cap, and says on the pull request when access truly ends", async () => {
    await world.withGovernance({ policy: CAPPED }, async () => {
      const number = world.openPull();
      world.review(number, "dave");
      await world.merge(number, "merge");
      const [active] = await world.grants(number);
      expect(active!.status).toBe("active");
      const activeUntil = new Date(active!.expires_at.getTime() + HOUR);
      expect(world.comment(number)).toContain(
        `**active** until ${utc(active!.expires_at)}; sessions opened before then can last until ${utc(activeUntil)} (the permission set's session duration is 1h)`,
      );

      world.aws.clock.advance(active!.expires_at.getTime() - world.aws.clock.nowMs() + 1000);
      await world.settle();
      const [revoked] = await world.grants(number);
      expect(revoked!.status).toBe("revoked");
      const ended = revoked!.ended_at!;
      expect(world.comment(number)).toContain(
        `revoked at ${utc(ended)}; sessions opened before ${utc(ended)} can last until ${utc(new Date(ended.getTime() + HOUR))} (the permission set's session duration is 1h)`,
      );
    });
  });
});

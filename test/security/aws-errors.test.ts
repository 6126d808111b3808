/**
 * Rulebook: "jitsudo's own AWS identity on the PR". When AWS refuses jitsudo, its message names
 * the caller: "User: arn:aws:iam::<jitsudo's account>:user/<jitsudo> is not authorized to perform:
 * sts:AssumeRole on resource: …", or the assumed-role session ARN when Identity Center itself
 * refuses. Anyone who can open a pull request in an access repository can make a grant fail on
 * purpose (a tenant config naming a role that does not trust jitsudo, an instance the role may not
 * touch) and read the answer on the pull request: jitsudo's account id and principal are the
 * first half of a cross-account attack on its deployment.
 *
 * The hole this guards: raw AWS messages copied into the grant's `last_error`, the grant comment
 * and the grant's events. The attacks merge an approved request under such a config through the
 * real webhook pipeline; the worker reaches the local Identity Center over HTTP with the real AWS
 * SDK, signing with jitsudo's own key (AKIDJITSUDOTEST, the identity the local STS calls
 * arn:aws:iam::000000000000:user/local-caller). The grant must fail, and nothing jitsudo writes may
 * carry jitsudo's own ARN, account id or key, nor a session ARN; the requester is still told what
 * failed and whom to ask. The tenant role's own ARN, which the tenant wrote in its config (and
 * which AWS's refusal repeats), is the one ARN that may be named: the platform team needs it and
 * the ExternalId to fix the trust policy.
 */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { MANAGEMENT_ACCOUNT_ID } from "../../src/sandbox/organizations.js";
import { INSTANCE_ARN } from "../support/aws-world.js";
import { EXTERNAL_ID, POLICY, TENANT_ROLE, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

/** jitsudo's own credentials in the test worker, and who the local STS says they are. */
const OWN_ACCESS_KEY = "AKIDJITSUDOTEST";
const OWN_ARN = `arn:aws:iam::${MANAGEMENT_ACCOUNT_ID}:user/local-caller`;
/** A role in the tenant's account that does not exist, or exists and trusts another ExternalId. */
const UNTRUSTING_ROLE = "arn:aws:iam::222222222222:role/jitsudo-acme-missing";
const OTHER_EXTERNAL_ID_ROLE = "arn:aws:iam::222222222222:role/jitsudo-acme-other-id";
/** A role that jitsudo may assume, limited to an instance that is not the tenant's. */
const NARROW_ROLE = "arn:aws:iam::111111111111:role/jitsudo-acme-narrow";
const ANOTHER_INSTANCE = "arn:aws:sso:::instance/ssoins-bbbbbbbbbbbbbbbb";

/** What AWS answers jitsudo's own key for AssumeRole into `roleArn`: the message that must not reach the pull request. */
async function awsRefusal(world: SecurityWorld, roleArn: string): Promise<string> {
  const sts = new STSClient({
    endpoint: world.aws.url,
    region: "us-east-1",
    credentials: { accessKeyId: OWN_ACCESS_KEY, secretAccessKey: "not-a-secret" },
    maxAttempts: 1,
  });
  try {
    await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "probe", ExternalId: EXTERNAL_ID }));
    return "";
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    sts.destroy();
  }
}

/** A field of free shape as text to scan: a string as is, anything else as its JSON, so nothing in it escapes the scan. */
const scannable = (value: unknown): string =>
  typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);

/** Everything jitsudo wrote about a pull request and its grants: comments, check runs, last_error, events. */
async function everythingSaid(world: SecurityWorld, number: number): Promise<{ where: string; text: string }[]> {
  const said: { where: string; text: string }[] = [];
  const comments = world.access.conversation.commentsOn(number);
  for (const comment of comments) said.push({ where: `comment ${comment.id} by ${comment.user.login}`, text: comment.body });
  // Every body jitsudo sent for this pull request's comments, including versions edited since.
  const ids = new Set(comments.map((comment) => String(comment.id)));
  for (const call of world.github.calls) {
    if (call.method !== "POST" && call.method !== "PATCH") continue;
    const edited = /^\/repos\/acme\/access\/issues\/comments\/(\d+)$/.exec(call.path)?.[1];
    if (call.path === `/repos/acme/access/issues/${number}/comments` || (edited !== undefined && ids.has(edited)))
      said.push({ where: `${call.method} ${call.path}`, text: String((call.body as { body?: unknown }).body) });
  }
  const heads = new Set([world.access.pull(number).headSha]);
  for (const run of world.access.conversation.checkRuns.filter((candidate) => heads.has(candidate.headSha))) {
    for (const [field, value] of Object.entries(run.output)) said.push({ where: `check run ${run.id} ${field}`, text: value ?? "" });
    for (const annotation of run.annotations)
      said.push({ where: `check run ${run.id} annotation`, text: `${scannable(annotation.title)} ${annotation.message}` });
  }
  const grants = await world.grants(number);
  for (const grant of grants) said.push({ where: `grant ${grant.id} last_error`, text: grant.last_error ?? "" });
  const events = (await world.db("grant_events").whereIn(
    "grant_id",
    grants.map((grant) => grant.id),
  )) as { type: string; reason: string | null; details: unknown }[];
  for (const event of events)
    said.push({ where: `grant event ${event.type}`, text: `${event.reason ?? ""} ${JSON.stringify(event.details)}` });
  return said;
}

/** Reads as GitHub shows it: backslash escapes resolved, zero-width spaces gone. */
const readable = (text: string) => text.replace(/\\([!-/:-@[-`{-~])/g, "$1").replaceAll("\u200b", "");

/** Fails on jitsudo's identity or any ARN but the tenant role's own in anything said about the pull request. */
async function expectNoOwnIdentity(world: SecurityWorld, number: number, tenantRole: string): Promise<void> {
  for (const { where, text } of await everythingSaid(world, number)) {
    const read = readable(text);
    for (const secret of [OWN_ACCESS_KEY, OWN_ARN, MANAGEMENT_ACCOUNT_ID, "local-caller", ":assumed-role/", "arn:aws:sts:"]) {
      expect(read.includes(secret), `${where} names ${secret}: ${read}`).toBe(false);
    }
    for (const arn of read.match(/arn:aws[a-z-]*:[^\s"'`|)\\]*/g) ?? []) {
      expect([tenantRole, INSTANCE_ARN], `${where} names ${arn}: ${read}`).toContain(arn);
    }
    // Twelve digits (not part of a hex id such as a commit SHA) that are not the requested account or the tenant's own.
    for (const digits of read.match(/(?<![0-9a-f])\d{12}(?![0-9a-f])/gi) ?? []) {
      expect(["123456789012", tenantRole.split(":")[4]], `${where} names account ${digits}: ${read}`).toContain(digits);
    }
  }
}

/** An approved request merged under `policy`; the worker acts. The grant must end failed, telling why. */
async function mergeUnder(world: SecurityWorld, policy: string): Promise<{ number: number; lastError: string }> {
  return world.withGovernance({ policy }, async () => {
    const mark = world.mark();
    const number = world.openPull();
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    world.review(number, "dave");
    await world.merge(number, "merge");
    const grants = await world.grants(number);
    expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
    expect(world.createsSince(mark)).toBe(0);
    return { number, lastError: grants[0]!.last_error ?? "" };
  });
}

/** The requester learns what failed and whom to ask, on the pull request. */
function expectToldWhatFailed(world: SecurityWorld, number: number, lastError: string): void {
  expect(lastError).toMatch(/AccessDenied/);
  expect(lastError).toContain("ask the platform team");
  const comment = readable(world.comment(number));
  expect(comment).toMatch(/\bfailed\b/);
  expect(comment).toContain("AWS refused jitsudo this call");
  expect(comment).toContain("ask the platform team");
}

describe("jitsudo's own AWS identity on the pull request", () => {
  const world = useSecurityWorld();

  it("names neither jitsudo's account, ARN nor key when the tenant role does not exist", async () => {
    const policy = POLICY.replace(TENANT_ROLE, UNTRUSTING_ROLE);
    const { number, lastError } = await mergeUnder(world, policy);
    // The worker asked STS with jitsudo's own key and was refused; AWS's answer names jitsudo.
    const refusal = world.aws.ic.calls.filter((call) => call.operation === "AssumeRole" && call.input.RoleArn === UNTRUSTING_ROLE).at(-1);
    expect([refusal?.outcome, refusal?.accessKeyId]).toEqual(["AccessDenied", OWN_ACCESS_KEY]);
    expect(await awsRefusal(world, UNTRUSTING_ROLE)).toBe(
      `AccessDenied: User: ${OWN_ARN} is not authorized to perform: sts:AssumeRole on resource: ${UNTRUSTING_ROLE}`,
    );
    expectToldWhatFailed(world, number, lastError);
    await expectNoOwnIdentity(world, number, UNTRUSTING_ROLE);
  });

  it("names neither jitsudo's account, ARN nor key when the tenant role trusts another ExternalId", async () => {
    world.aws.ic.addRole({ roleArn: OTHER_EXTERNAL_ID_ROLE, externalId: `${EXTERNAL_ID}-not-this-one`, trustedInstances: [INSTANCE_ARN] });
    const { number, lastError } = await mergeUnder(world, POLICY.replace(TENANT_ROLE, OTHER_EXTERNAL_ID_ROLE));
    expectToldWhatFailed(world, number, lastError);
    await expectNoOwnIdentity(world, number, OTHER_EXTERNAL_ID_ROLE);
  });

  it("names no session ARN when the role is assumed but Identity Center refuses it the tenant's instance", async () => {
    world.aws.ic.addRole({ roleArn: NARROW_ROLE, externalId: EXTERNAL_ID, trustedInstances: [ANOTHER_INSTANCE] });
    const mark = world.mark();
    const { number, lastError } = await mergeUnder(world, POLICY.replace(TENANT_ROLE, NARROW_ROLE));
    const calls = world.aws.ic.calls.slice(mark);
    expect(calls.some((call) => call.operation === "AssumeRole" && call.input.RoleArn === NARROW_ROLE && call.outcome === "ok")).toBe(true);
    // The role was assumed; Identity Center itself refused the session (whose ARN AWS's message names).
    expect(calls.filter((call) => call.roleArn === NARROW_ROLE && call.outcome !== "ok").map((call) => call.outcome)).toContain(
      "AccessDeniedException",
    );
    expectToldWhatFailed(world, number, lastError);
    await expectNoOwnIdentity(world, number, NARROW_ROLE);
  });

  it("tells the requester what failed when the refused create was for an assignment another live grant holds", async () => {
    // alice already holds ReadOnlyAccess on production through the trusted role.
    await world.grant();
    const role = `${NARROW_ROLE}-warm`;
    world.aws.ic.addRole({ roleArn: role, externalId: EXTERNAL_ID, trustedInstances: [ANOTHER_INSTANCE] });
    const mark = world.mark();
    const number = await world.withGovernance({ policy: POLICY.replace(TENANT_ROLE, role) }, async () => {
      const opened = world.openPull();
      world.review(opened, "dave");
      await world.merge(opened, "merge");
      return opened;
    });
    // Identity Center refused the new role (its name lookups are its own: nothing cached for the
    // old role answers for it), so nothing was created for this grant.
    expect(world.aws.ic.calls.slice(mark).filter((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ok")).toEqual(
      [],
    );
    const [grant] = await world.grants(number);
    expect(grant?.active_at).toBeNull();
    expectToldWhatFailed(world, number, grant?.last_error ?? "");
    await expectNoOwnIdentity(world, number, role);
  });

  it("grants under the trusted tenant role (the control)", async () => {
    const mark = world.mark();
    const number = world.openPull();
    world.review(number, "dave");
    await world.merge(number, "merge");
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
    expect(world.createsSince(mark)).toBe(1);
  });
});

import { CreateAccountAssignmentCommand, ListInstancesCommand, ListPermissionSetsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, INSTANCE_ARN, failure, startWorld, type Credentials, type World } from "./world.js";

const ROLE = "arn:aws:iam::123456789012:role/jitsudo/JitsudoTenant";
const EXTERNAL_ID = "tenant-a-3f9c";

let world: World;
let otherInstance: string;
beforeEach(async () => {
  world = await startWorld({ requireAssumedRole: true });
  otherInstance = world.ic.addInstance({}).instanceArn;
  world.ic.addRole({ roleArn: ROLE, externalId: EXTERNAL_ID, trustedInstances: [INSTANCE_ARN] });
});
afterEach(() => world.close());

const assume = (input: Partial<ConstructorParameters<typeof AssumeRoleCommand>[0]> = {}) =>
  world.clients.sts.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: "jitsudo-grant-42", ExternalId: EXTERNAL_ID, ...input }));

async function assumedCredentials(): Promise<Credentials> {
  const { Credentials: c } = await assume();
  return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken!, expiration: c!.Expiration! };
}

function ssoAdminWith(credentials: Credentials | (() => Promise<Credentials>)) {
  return new SSOAdminClient({ region: "us-east-1", endpoint: world.url, credentials, maxAttempts: 1 });
}

describe("AssumeRole", () => {
  it("issues temporary credentials for the role's session", async () => {
    const answer = await assume({ DurationSeconds: 900 });
    expect(answer.Credentials).toEqual({
      AccessKeyId: expect.stringMatching(/^ASIA[A-Z2-7]{16}$/),
      SecretAccessKey: expect.any(String),
      SessionToken: expect.any(String),
      Expiration: new Date(Math.floor(world.clock.time / 1000) * 1000 + 900_000),
    });
    expect(answer.AssumedRoleUser).toEqual({
      AssumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:jitsudo-grant-42$/),
      Arn: "arn:aws:sts::123456789012:assumed-role/JitsudoTenant/jitsudo-grant-42",
    });
  });

  it.each([
    ["a wrong ExternalId", { ExternalId: "tenant-b-0000" }, ROLE],
    ["no ExternalId", { ExternalId: undefined }, ROLE],
    ["a role that does not exist", { RoleArn: "arn:aws:iam::123456789012:role/Nope" }, "arn:aws:iam::123456789012:role/Nope"],
  ])("answers AccessDenied (403) for %s", async (_, input, roleArn) => {
    expect(await failure(assume(input))).toEqual({
      name: "AccessDenied",
      status: 403,
      message: `User: arn:aws:iam::000000000000:user/local-caller is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    });
  });

  it("answers ValidationError for a bad session name or a duration over the role's maximum", async () => {
    expect(await failure(assume({ RoleSessionName: "a b" }))).toMatchObject({ name: "ValidationError", status: 400 });
    expect(await failure(assume({ DurationSeconds: 7200 }))).toMatchObject({
      name: "ValidationError",
      message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    });
  });

  it("GetCallerIdentity names the assumed role's session", async () => {
    const sts = new STSClient({ region: "us-east-1", endpoint: world.url, credentials: await assumedCredentials() });
    try {
      expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({
        Account: "123456789012",
        Arn: "arn:aws:sts::123456789012:assumed-role/JitsudoTenant/jitsudo-grant-42",
      });
    } finally {
      sts.destroy();
    }
  });
});

describe("with requireAssumedRole", () => {
  it("refuses calls signed with credentials that did not come from AssumeRole", async () => {
    expect(await failure(world.clients.ssoAdmin.send(new ListInstancesCommand({})))).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message: "Access key AKIDLOCALTEST was not issued by AssumeRole on this simulator, and requireAssumedRole is on",
    });
    expect(world.ic.calls.at(-1)).toMatchObject({
      service: "sso-admin",
      operation: "ListInstances",
      outcome: "AccessDeniedException",
      accessKeyId: "AKIDLOCALTEST",
    });
  });

  it("serves a client whose credential provider assumes the role (as fromTemporaryCredentials does) and logs the role", async () => {
    let assumed = 0;
    const client = ssoAdminWith(async () => {
      assumed++;
      return assumedCredentials();
    });
    try {
      const instances = await client.send(new ListInstancesCommand({}));
      await client.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
      // The tenant's role sees its own instance only.
      expect(instances.Instances?.map((i) => i.InstanceArn)).toEqual([INSTANCE_ARN]);
      expect(assumed).toBe(1);
      const calls = world.ic.calls.filter((c) => c.service === "sso-admin");
      expect(calls.map((c) => [c.operation, c.outcome, c.roleArn])).toEqual([
        ["ListInstances", "ok", ROLE],
        ["ListPermissionSets", "ok", ROLE],
      ]);
      expect(world.ic.calls.find((c) => c.service === "sts")?.input).toMatchObject({
        Action: "AssumeRole",
        RoleArn: ROLE,
        ExternalId: EXTERNAL_ID,
      });
    } finally {
      client.destroy();
    }
  });

  it("refuses a session on an instance its role does not trust", async () => {
    const client = ssoAdminWith(await assumedCredentials());
    const otherPermissionSet = world.ic.addPermissionSet(otherInstance, { name: "Admin" });
    try {
      const refused = await failure(
        client.send(
          new CreateAccountAssignmentCommand({
            InstanceArn: otherInstance,
            TargetId: ACCOUNT,
            TargetType: "AWS_ACCOUNT",
            PermissionSetArn: otherPermissionSet,
            PrincipalType: "USER",
            PrincipalId: world.alice,
          }),
        ),
      );
      expect(refused).toEqual({
        name: "AccessDeniedException",
        status: 400,
        message: `User: arn:aws:sts::123456789012:assumed-role/JitsudoTenant/jitsudo-grant-42 is not authorized to perform: sso:CreateAccountAssignment on resource: ${otherInstance}`,
      });
      expect(world.ic.operations()).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it("refuses a session's key with another session token, and an expired session", async () => {
    const credentials = await assumedCredentials();
    const forged = ssoAdminWith({ ...credentials, sessionToken: "forged" });
    const genuine = ssoAdminWith(credentials);
    try {
      expect(await failure(forged.send(new ListInstancesCommand({})))).toMatchObject({ name: "AccessDeniedException", status: 400 });
      await genuine.send(new ListInstancesCommand({}));
      world.clock.advance(3600_000);
      expect(await failure(genuine.send(new ListInstancesCommand({})))).toEqual({
        name: "ExpiredTokenException",
        status: 400,
        message: "The security token included in the request is expired",
      });
    } finally {
      forged.destroy();
      genuine.destroy();
    }
  });
});

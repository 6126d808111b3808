import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { externalIdFor, RoleSessions, sessionName } from "../../src/aws/credentials.js";

/** An STS stand-in that counts AssumeRole calls and hands out credentials valid for 15 minutes. */
function fakeSts(now: () => number) {
  const calls: Record<string, unknown>[] = [];
  const client = {
    send: (command: AssumeRoleCommand) => {
      calls.push({ ...command.input });
      return Promise.resolve({
        Credentials: {
          AccessKeyId: `ASIA${calls.length}`,
          SecretAccessKey: "secret",
          SessionToken: "token",
          Expiration: new Date(now() + 15 * 60_000),
        },
      });
    },
  } as unknown as STSClient;
  return { client, calls };
}

describe("role sessions", () => {
  it("derives the ExternalId from the installation and keeps session names within AWS's rules", () => {
    expect(externalIdFor(42)).toBe("jitsudo-42");
    expect(sessionName("grant-3f1e9c1a-0b7d-4f4e-9a51-2f1e1f1e1f1e")).toBe("jitsudo-grant-3f1e9c1a-0b7d-4f4e-9a51-2f1e1f1e1f1e");
    expect(sessionName("drift for acme/access!")).toBe("jitsudo-drift-for-acme-access-");
    expect(sessionName("x".repeat(100))).toHaveLength(64);
  });

  it("assumes once per session, then reuses the credentials until five minutes before they expire", async () => {
    let time = Date.parse("2026-11-25T12:00:00Z");
    const sts = fakeSts(() => time);
    const sessions = new RoleSessions(() => sts.client, { now: () => time });
    const session = { roleArn: "arn:aws:iam::111111111111:role/jitsudo", externalId: "jitsudo-1", sessionName: "jitsudo-grant-1" };

    const [first, concurrent] = await Promise.all([sessions.credentials(session, "us-east-1"), sessions.credentials(session, "us-east-1")]);
    expect(first).toBe(concurrent);
    expect(sts.calls).toEqual([
      { RoleArn: session.roleArn, RoleSessionName: "jitsudo-grant-1", ExternalId: "jitsudo-1", DurationSeconds: 900 },
    ]);

    time += 9 * 60_000; // 6 minutes left: still good
    expect((await sessions.credentials(session, "us-east-1")).accessKeyId).toBe("ASIA1");
    time += 2 * 60_000; // 4 minutes left: refreshed
    expect((await sessions.credentials(session, "us-east-1")).accessKeyId).toBe("ASIA2");

    await sessions.credentials({ ...session, sessionName: "jitsudo-grant-2" }, "us-east-1");
    expect(sts.calls).toHaveLength(3);
  });

  it("asks again after a failed AssumeRole instead of remembering the failure", async () => {
    let fail = true;
    const client = {
      send: () =>
        fail
          ? Promise.reject(Object.assign(new Error("not authorized"), { name: "AccessDenied" }))
          : Promise.resolve({ Credentials: { AccessKeyId: "ASIA9", SecretAccessKey: "s", Expiration: new Date(Date.now() + 900_000) } }),
    } as unknown as STSClient;
    const sessions = new RoleSessions(() => client);
    const session = { roleArn: "arn:aws:iam::111111111111:role/jitsudo", externalId: "jitsudo-1", sessionName: "jitsudo-drift" };
    await expect(sessions.credentials(session, "us-east-1")).rejects.toThrow("not authorized");
    fail = false;
    expect((await sessions.credentials(session, "us-east-1")).accessKeyId).toBe("ASIA9");
  });
});

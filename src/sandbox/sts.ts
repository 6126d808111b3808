/**
 * The STS operations jitsudo calls (awsQuery): AssumeRole into a tenant's role, and
 * GetCallerIdentity. Sessions issued here are remembered, so the simulator can tell which role a
 * later call was signed for and, with `requireAssumedRole`, refuse calls that were not.
 */
import { randomBytes } from "node:crypto";
import type { Caller, Handler } from "./context.js";
import { AwsError } from "./errors.js";
import { PATTERNS } from "./input.js";
import { MANAGEMENT_ACCOUNT_ID } from "./organizations.js";
import type { Role, Session } from "./state.js";

const DEFAULT_DURATION_SECONDS = 3600;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Credentials come from node:crypto, not the seeded generator: with `requireAssumedRole` they are
 * the proof that a caller went through AssumeRole, and a reproducible key would be guessable.
 */
function randomBase32(length: number): string {
  return [...randomBytes(length)].map((byte) => BASE32[byte % 32]).join("");
}

/** `arn:aws:iam::123456789012:role/path/name` → account and name. */
function roleParts(roleArn: string): { account: string; name: string } {
  const [, , , , account = "", resource = ""] = roleArn.split(":");
  return { account, name: resource.split("/").at(-1) ?? "" };
}

function callerArn(caller: Caller): string {
  return caller.session?.assumedRoleArn ?? `arn:aws:iam::${MANAGEMENT_ACCOUNT_ID}:user/local-caller`;
}

/** ISO 8601 to the second, the form STS writes timestamps in. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function issueSession(role: Role, sessionName: string, expiresAt: number): Session {
  const { account, name } = roleParts(role.roleArn);
  return {
    accessKeyId: `ASIA${randomBase32(16)}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    sessionToken: randomBytes(96).toString("base64"),
    roleArn: role.roleArn,
    sessionName,
    assumedRoleId: `${role.roleId}:${sessionName}`,
    assumedRoleArn: `arn:aws:sts::${account}:assumed-role/${name}/${sessionName}`,
    expiresAt,
  };
}

const assumeRole: Handler = (ctx, r) => {
  const roleArn = r.string("RoleArn", { maxLength: 2048 });
  const sessionName = r.string("RoleSessionName", { pattern: PATTERNS.roleSessionName });
  const externalId = r.optionalString("ExternalId", { pattern: PATTERNS.externalId });
  const durationSeconds = r.optionalInteger("DurationSeconds", 900, 43_200) ?? DEFAULT_DURATION_SECONDS;

  const role = ctx.state.roles.get(roleArn);
  // One answer for "no such role" and "trust policy refuses", as AWS gives, so callers cannot probe for roles.
  if (!role || (role.externalId !== undefined && externalId !== role.externalId)) {
    throw new AwsError(
      "AccessDenied",
      `User: ${callerArn(ctx.caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  }
  if (durationSeconds > role.maxSessionDurationSeconds) {
    throw new AwsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }

  const session = issueSession(role, sessionName, ctx.now + durationSeconds * 1000);
  ctx.state.sessions.set(session.accessKeyId, session);
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: isoSeconds(session.expiresAt),
    },
    AssumedRoleUser: { AssumedRoleId: session.assumedRoleId, Arn: session.assumedRoleArn },
  };
};

const getCallerIdentity: Handler = (ctx) => {
  const session = ctx.caller.session;
  if (session) {
    return { UserId: session.assumedRoleId, Account: roleParts(session.roleArn).account, Arn: session.assumedRoleArn };
  }
  return { UserId: ctx.caller.accessKeyId ?? "anonymous", Account: MANAGEMENT_ACCOUNT_ID, Arn: callerArn(ctx.caller) };
};

export const STS_OPERATIONS: ReadonlyMap<string, Handler> = new Map([
  ["AssumeRole", assumeRole],
  ["GetCallerIdentity", getCallerIdentity],
]);

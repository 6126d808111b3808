/**
 * The identitystore operations jitsudo calls (awsJson1_1, target prefix `AWSIdentityStore.`):
 * resolving a user name or email to the user id that assignments name, and describing a user.
 */
import type { Handler, JsonObject, OperationContext } from "./context.js";
import { AwsError } from "./errors.js";
import { PATTERNS, type InputReader } from "./input.js";
import type { Principal } from "./state.js";

function readIdentityStoreId(r: InputReader): string {
  return r.string("IdentityStoreId", { pattern: PATTERNS.identityStoreId, maxLength: 36 });
}

function knownIdentityStore(ctx: OperationContext, identityStoreId: string): void {
  if (!ctx.state.instancesByIdentityStore.has(identityStoreId)) {
    throw new AwsError("ResourceNotFoundException", `Identity store ${identityStoreId} does not exist`);
  }
}

/** The unique attributes GetUserId can look users up by, keyed by lower-cased AttributePath. */
const UNIQUE_ATTRIBUTES: ReadonlyMap<string, (user: Principal) => string | undefined> = new Map([
  ["username", (user: Principal) => user.userName],
  ["emails.value", (user: Principal) => user.email],
]);

const getUserId: Handler = (ctx, r) => {
  const identityStoreId = readIdentityStoreId(r);
  const identifier = r.optionalObject("AlternateIdentifier");
  const unique = identifier?.optionalObject("UniqueAttribute");
  const external = identifier?.optionalObject("ExternalId");
  // AlternateIdentifier is a union: exactly one member.
  const notOneMember = new AwsError("ValidationException", "AlternateIdentifier must set exactly one of ExternalId and UniqueAttribute");
  if (external) {
    if (unique) throw notOneMember;
    external.string("Issuer", { maxLength: 100 });
    external.string("Id", { maxLength: 256 });
    knownIdentityStore(ctx, identityStoreId);
    // The simulator keeps no external ids, so none matches.
    throw new AwsError("ResourceNotFoundException", "USER not found");
  }
  if (!unique) throw notOneMember;
  const path = unique.string("AttributePath", { maxLength: 255 });
  const attributeOf = UNIQUE_ATTRIBUTES.get(path.toLowerCase());
  if (!attributeOf)
    throw new AwsError("ValidationException", `AttributePath ${path} is not a unique attribute; use userName or emails.value`);
  const value = unique.optionalDocument("AttributeValue");
  if (typeof value !== "string") throw new AwsError("ValidationException", "AttributeValue must be a string");
  knownIdentityStore(ctx, identityStoreId);
  // Exact comparison: a lookup that folded case could resolve a request for "Alice" to user "alice".
  const match = [...ctx.state.principals.values()].find(
    (p) => p.type === "USER" && p.identityStoreId === identityStoreId && attributeOf(p) === value,
  );
  if (!match) throw new AwsError("ResourceNotFoundException", "USER not found");
  return { IdentityStoreId: identityStoreId, UserId: match.id };
};

const describeUser: Handler = (ctx, r) => {
  const identityStoreId = readIdentityStoreId(r);
  const userId = r.string("UserId", { pattern: PATTERNS.principalId, maxLength: 47 });
  knownIdentityStore(ctx, identityStoreId);
  const user = ctx.state.principals.get(userId);
  if (!user || user.type !== "USER" || user.identityStoreId !== identityStoreId) {
    throw new AwsError("ResourceNotFoundException", `USER ${userId} not found`);
  }
  const out: JsonObject = { IdentityStoreId: identityStoreId, UserId: user.id, UserName: user.userName, DisplayName: user.displayName };
  if (user.email !== undefined) out.Emails = [{ Value: user.email, Type: "work", Primary: true }];
  return out;
};

export const IDENTITY_STORE_OPERATIONS: ReadonlyMap<string, Handler> = new Map([
  ["GetUserId", getUserId],
  ["DescribeUser", describeUser],
]);

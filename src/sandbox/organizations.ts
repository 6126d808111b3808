/**
 * The organizations operations jitsudo calls (awsJson1_1, target prefix `AWSOrganizationsV20161128.`).
 * Organizations names its errors differently from Identity Center: InvalidInputException for bad
 * input, AccountNotFoundException, and TooManyRequestsException when throttled.
 */
import { epochSeconds, type Handler, type JsonObject } from "./context.js";
import { AwsError } from "./errors.js";
import { PATTERNS } from "./input.js";
import { paginate, sortByKey } from "./paging.js";
import type { Account } from "./state.js";

/** The simulated organisation; account ARNs name it. */
export const ORGANIZATION_ID = "o-localsandbox";
export const MANAGEMENT_ACCOUNT_ID = "000000000000";

/** Organizations caps MaxResults at 20. */
const MAX_RESULTS = 20;

function accountJson(account: Account): JsonObject {
  return {
    Id: account.id,
    Arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT_ID}:account/${ORGANIZATION_ID}/${account.id}`,
    Email: account.email,
    Name: account.name,
    // Status is the older field, State its replacement; AWS still sends both.
    Status: account.status,
    State: account.status,
    JoinedMethod: "CREATED",
    JoinedTimestamp: epochSeconds(account.joinedAt),
  };
}

const listAccounts: Handler = (ctx, r) => {
  const maxResults = r.optionalInteger("MaxResults", 1, MAX_RESULTS);
  const nextToken = r.optionalString("NextToken", { maxLength: 100_000 });
  const accounts = sortByKey(ctx.state.accounts.values(), (a) => a.id);
  const rules = { ...ctx.settings.paging, pageSize: Math.min(ctx.settings.paging.pageSize, MAX_RESULTS) };
  const page = paginate(accounts, (a) => a.id, { maxResults, nextToken, query: "accounts" }, rules, "InvalidInputException");
  return { Accounts: page.items.map(accountJson), NextToken: page.nextToken };
};

const describeAccount: Handler = (ctx, r) => {
  const accountId = r.string("AccountId", { pattern: PATTERNS.accountId });
  const account = ctx.state.accounts.get(accountId);
  if (!account) throw new AwsError("AccountNotFoundException", "You specified an account that doesn't exist.");
  return { Account: accountJson(account) };
};

const describeOrganization: Handler = () => ({
  Organization: {
    Id: ORGANIZATION_ID,
    Arn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT_ID}:organization/${ORGANIZATION_ID}`,
    FeatureSet: "ALL",
    MasterAccountArn: `arn:aws:organizations::${MANAGEMENT_ACCOUNT_ID}:account/${ORGANIZATION_ID}/${MANAGEMENT_ACCOUNT_ID}`,
    MasterAccountId: MANAGEMENT_ACCOUNT_ID,
    MasterAccountEmail: "management@example.com",
  },
});

export const ORGANIZATIONS_OPERATIONS: ReadonlyMap<string, Handler> = new Map([
  ["ListAccounts", listAccounts],
  ["DescribeAccount", describeAccount],
  ["DescribeOrganization", describeOrganization],
]);

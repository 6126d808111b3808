import { describe, expect, it } from "vitest";
import { parseTenantConfig, type TenantConfig } from "../../src/config/tenant.js";
import { parseRequestFile, type ParsedRequest } from "../../src/requests/access-request.js";
import { evaluatePolicy } from "../../src/requests/policy.js";

const enc = (text: string) => new TextEncoder().encode(text);

function config(text: string): TenantConfig {
  const result = parseTenantConfig(enc(text));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function request(fields: Record<string, string>): ParsedRequest {
  const text = Object.entries({ account: "123456789012", permission_set: "ReadOnlyAccess", duration: "2h", reason: "Investigate the alarms", ...fields })
    .map(([key, value]) => `${key}: "${value}"`)
    .join("\n");
  const result = parseRequestFile("access-requests/r.yaml", enc(text));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.parsed;
}

const POLICY = config(`users:
  alice: alice@example.com
rules:
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 8h
  - permission_sets: [AdministratorAccess, ReadOnlyAccess]
    accounts: ["123456789012"]
    max_duration: 1h
    approvals: 3
  - permission_sets: [AdministratorAccess]
    accounts: [production]
    max_duration: 2h
    approvals: 2
    require_ticket: true
  - permission_sets: [SupportUser]
    accounts: ["*"]
    max_duration: 1h
    allow_other_principal: true
`);

const messages = (decision: { problems: { message: string }[] }) => decision.problems.map((problem) => problem.message);

describe("evaluatePolicy", () => {
  it("lets the first matching rule decide, even when a later one is stricter", () => {
    const decision = evaluatePolicy({ parsed: request({}), config: POLICY, requester: "alice" });
    expect([decision.allowed, decision.rule?.index, decision.approvalsRequired, decision.principal]).toEqual([true, 0, 1, "alice@example.com"]);
  });

  it("denies what no rule matches, and everything when there are no rules", () => {
    const unmatched = evaluatePolicy({ parsed: request({ permission_set: "BillingAccess" }), config: POLICY, requester: "alice" });
    expect([unmatched.allowed, unmatched.rule, messages(unmatched)]).toEqual([
      false,
      undefined,
      ["no rule in .github/jitsudo.yml allows BillingAccess on account 123456789012; ask for a permission set and account a rule lists"],
    ]);
    const empty = evaluatePolicy({ parsed: request({}), config: config("rules: []\n"), requester: "alice" });
    expect(messages(empty)).toEqual([".github/jitsudo.yml on the base branch has no rules, so nothing can be granted; an admin must add rules first"]);
  });

  it("takes the approvals count and limits from the matched rule", () => {
    const decision = evaluatePolicy({ parsed: request({ permission_set: "AdministratorAccess", duration: "90m" }), config: POLICY, requester: "alice" });
    expect([decision.rule?.index, decision.approvalsRequired, decision.allowed]).toEqual([1, 3, false]);
    expect(messages(decision)).toEqual(["duration 90m is longer than the 1h that rules[1] (.github/jitsudo.yml line 7) allows; ask for 1h or less"]);
  });

  it("requires a ticket where the rule says so", () => {
    const without = evaluatePolicy({ parsed: request({ account: "production", permission_set: "AdministratorAccess" }), config: POLICY, requester: "alice" });
    expect(messages(without)).toEqual(["rules[2] (.github/jitsudo.yml line 11) requires a ticket for AdministratorAccess; add ticket: <ticket id, e.g. INC-4711>"]);
    const withTicket = evaluatePolicy({ parsed: request({ account: "production", permission_set: "AdministratorAccess", ticket: "INC-1" }), config: POLICY, requester: "alice" });
    expect(withTicket.allowed).toBe(true);
  });

  it("refuses a principal other than the author's own unless the rule allows it", () => {
    const other = evaluatePolicy({ parsed: request({ principal: "bob@example.com" }), config: POLICY, requester: "Alice" });
    expect(messages(other)).toEqual([
      'principal "bob@example.com" is not the author\'s own (Alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 4) does not allow requesting for someone else, so remove principal',
    ]);
    const own = evaluatePolicy({ parsed: request({ principal: "alice@example.com" }), config: POLICY, requester: "alice" });
    expect(own.allowed).toBe(true);
    const allowed = evaluatePolicy({ parsed: request({ permission_set: "SupportUser", duration: "30m", principal: "bob@example.com" }), config: POLICY, requester: "alice" });
    expect([allowed.allowed, allowed.principal]).toEqual([true, "bob@example.com"]);
  });

  it("matches names and ids through the directory", () => {
    const directory = { accountNames: new Map([["210987654321", "production"]]), permissionSetNames: new Map() };
    const byId = evaluatePolicy({ parsed: request({ account: "210987654321", permission_set: "AdministratorAccess", ticket: "INC-1" }), config: POLICY, requester: "alice", directory });
    expect([byId.allowed, byId.rule?.index]).toEqual([true, 2]);
    const withoutDirectory = evaluatePolicy({ parsed: request({ account: "210987654321", permission_set: "AdministratorAccess", ticket: "INC-1" }), config: POLICY, requester: "alice" });
    expect(withoutDirectory.allowed).toBe(false);
  });

  it("only warns about a principal when no requester is known (local validation)", () => {
    const decision = evaluatePolicy({ parsed: request({ principal: "bob@example.com" }), config: POLICY });
    expect([decision.allowed, decision.problems.map((problem) => problem.severity)]).toEqual([true, ["warning"]]);
  });
});

import { describe, expect, it } from "vitest";
import { parseTenantConfig, type TenantConfig } from "../../src/config/tenant.js";
import { parseRequestFile, type ParsedRequest } from "../../src/requests/access-request.js";
import { evaluatePolicy, recheckOnCanonicalIds, type CanonicalGrant } from "../../src/requests/policy.js";

const enc = (text: string) => new TextEncoder().encode(text);
const NOW = new Date("2026-11-25T12:00:00Z");

function config(text: string): TenantConfig {
  const result = parseTenantConfig(enc(text));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function request(fields: Record<string, string>): ParsedRequest {
  const text = Object.entries({
    account: "123456789012",
    permission_set: "ReadOnlyAccess",
    duration: "2h",
    reason: "Investigate the alarms",
    ...fields,
  })
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
    const decision = evaluatePolicy({ now: NOW, parsed: request({}), config: POLICY, requester: "alice" });
    expect([decision.allowed, decision.rule?.index, decision.approvalsRequired, decision.principal]).toEqual([
      true,
      0,
      1,
      "alice@example.com",
    ]);
  });

  it("denies what no rule matches, and everything when there are no rules", () => {
    const unmatched = evaluatePolicy({
      now: NOW,
      parsed: request({ permission_set: "BillingAccess" }),
      config: POLICY,
      requester: "alice",
    });
    expect([unmatched.allowed, unmatched.rule, messages(unmatched)]).toEqual([
      false,
      undefined,
      [
        'no rule in .github/jitsudo.yml allows "BillingAccess" on account "123456789012"; ask for a permission set and account a rule lists',
      ],
    ]);
    const empty = evaluatePolicy({ now: NOW, parsed: request({}), config: config("rules: []\n"), requester: "alice" });
    expect(messages(empty)).toEqual([
      ".github/jitsudo.yml on the base branch has no rules, so nothing can be granted; an admin must add rules first",
    ]);
  });

  it("takes the approvals count and limits from the matched rule", () => {
    const decision = evaluatePolicy({
      now: NOW,
      parsed: request({ permission_set: "AdministratorAccess", duration: "90m" }),
      config: POLICY,
      requester: "alice",
    });
    expect([decision.rule?.index, decision.approvalsRequired, decision.allowed]).toEqual([1, 3, false]);
    expect(messages(decision)).toEqual([
      'duration "90m" is longer than the 1h that rules[1] (.github/jitsudo.yml line 7) allows; ask for 1h or less',
    ]);
  });

  it("requires a ticket where the rule says so", () => {
    const without = evaluatePolicy({
      now: NOW,
      parsed: request({ account: "production", permission_set: "AdministratorAccess" }),
      config: POLICY,
      requester: "alice",
    });
    expect(without.problems.filter((problem) => problem.severity === "error").map((problem) => problem.message)).toEqual([
      'rules[2] (.github/jitsudo.yml line 11) requires a ticket for "AdministratorAccess"; add ticket: <ticket id, e.g. INC-4711>',
    ]);
    const withTicket = evaluatePolicy({
      now: NOW,
      parsed: request({ account: "production", permission_set: "AdministratorAccess", ticket: "INC-1" }),
      config: POLICY,
      requester: "alice",
    });
    expect(withTicket.allowed).toBe(true);
  });

  it("refuses a principal other than the author's own unless the rule allows it", () => {
    const other = evaluatePolicy({ now: NOW, parsed: request({ principal: "bob@example.com" }), config: POLICY, requester: "Alice" });
    expect(messages(other)).toEqual([
      'principal "bob@example.com" is not the author\'s own (Alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 4) does not allow requesting for someone else, so remove principal',
    ]);
    const own = evaluatePolicy({ now: NOW, parsed: request({ principal: "alice@example.com" }), config: POLICY, requester: "alice" });
    expect(own.allowed).toBe(true);
    const allowed = evaluatePolicy({
      now: NOW,
      parsed: request({ permission_set: "SupportUser", duration: "30m", principal: "bob@example.com" }),
      config: POLICY,
      requester: "alice",
    });
    expect([allowed.allowed, allowed.principal]).toEqual([true, "bob@example.com"]);
  });

  it("matches names and ids through the directory", () => {
    const directory = { accountNames: new Map([["210987654321", "production"]]), permissionSetNames: new Map() };
    const byId = evaluatePolicy({
      now: NOW,
      parsed: request({ account: "210987654321", permission_set: "AdministratorAccess", ticket: "INC-1" }),
      config: POLICY,
      requester: "alice",
      directory,
    });
    expect([byId.allowed, byId.rule?.index]).toEqual([true, 2]);
    const withoutDirectory = evaluatePolicy({
      now: NOW,
      parsed: request({ account: "210987654321", permission_set: "AdministratorAccess", ticket: "INC-1" }),
      config: POLICY,
      requester: "alice",
    });
    expect(withoutDirectory.allowed).toBe(false);
  });

  it("only warns about a principal when no requester is known (local validation)", () => {
    const decision = evaluatePolicy({ now: NOW, parsed: request({ principal: "bob@example.com" }), config: POLICY });
    expect([decision.allowed, decision.problems.map((problem) => problem.severity)]).toEqual([true, ["warning"]]);
  });

  it("refuses a starts_at further away than the rule's max_lead_time (default 30 days)", () => {
    const near = evaluatePolicy({ now: NOW, parsed: request({ starts_at: "2026-12-20T12:00:00Z" }), config: POLICY, requester: "alice" });
    expect(near.allowed).toBe(true);
    const far = evaluatePolicy({ now: NOW, parsed: request({ starts_at: "2026-12-26T12:00:01Z" }), config: POLICY, requester: "alice" });
    expect(messages(far)).toEqual([
      'starts_at "2026-12-26T12:00:01Z" is more than 30d away, the furthest rules[0] (.github/jitsudo.yml line 4) allows (max_lead_time); ask closer to the time you need the access',
    ]);
    const strict = config('rules:\n  - permission_sets: ["*"]\n    accounts: ["*"]\n    max_duration: 1h\n    max_lead_time: 1d\n');
    const tomorrowAndABit = evaluatePolicy({
      now: NOW,
      parsed: request({ duration: "1h", starts_at: "2026-11-26T13:00:00Z" }),
      config: strict,
      requester: "alice",
    });
    expect(tomorrowAndABit.allowed).toBe(false);
  });

  it("warns that a name or an ARN is matched on its canonical id, re-checked before provisioning", () => {
    const decision = evaluatePolicy({
      now: NOW,
      parsed: request({ account: "production", permission_set: "arn:aws:sso:::permissionSet/ssoins-aaaaaaaaaaaaaaaa/ps-1111111111111111" }),
      config: config('rules:\n  - permission_sets: ["*"]\n    accounts: ["*"]\n    max_duration: 8h\n'),
      requester: "alice",
    });
    expect(decision.allowed).toBe(true);
    expect(decision.problems.map((problem) => [problem.severity, problem.line, problem.message.split(";")[0]])).toEqual([
      ["warning", 1, 'account "production" is a name'],
      ["warning", 2, "permission_set is an ARN"],
    ]);
  });
});

describe("recheckOnCanonicalIds", () => {
  // The attack: a strict rule for the production account by id, a loose catch-all after it; the
  // request names production by name, so on the spelling it falls to the catch-all.
  const RULES = config(`rules:
  - permission_sets: [AdministratorAccess]
    accounts: ["123456789012"]
    max_duration: 2h
    approvals: 2
    require_ticket: true
  - permission_sets: [AdministratorAccess, "arn:aws:sso:::permissionSet/ssoins-aaaaaaaaaaaaaaaa/ps-2222222222222222"]
    accounts: [staging]
    max_duration: 4h
  - permission_sets: ["*"]
    accounts: ["*"]
    max_duration: 8h
`).rules;
  const directory = {
    accountNames: new Map([
      ["123456789012", "production"],
      ["210987654321", "staging"],
    ]),
    permissionSetNames: new Map<string, string>(),
  };
  const grant = (fields: Partial<CanonicalGrant> = {}): CanonicalGrant => ({
    accountId: "123456789012",
    permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-aaaaaaaaaaaaaaaa/ps-1111111111111111",
    permissionSetName: "AdministratorAccess",
    durationMs: 3_600_000,
    leadTimeMs: 0,
    forSomeoneElse: false,
    approvals: 1,
    ownerGroups: new Set<string>(),
    ruleIndex: 2,
    ...fields,
  });

  it("refuses a request whose canonical rule asks for more than the merge had", () => {
    expect(recheckOnCanonicalIds(RULES, grant(), directory)).toEqual({
      ok: false,
      reason:
        "on its canonical ids (AdministratorAccess on account 123456789012) rules[0] decides this request, not rules[2] that its spelling matched, and rules[0] requires 2 code-owner approvals (the merge had 1), a ticket; ask again naming the account by id and the permission set by name",
    });
  });

  it("accepts it when the merge met every requirement of the canonical rule anyway", () => {
    const result = recheckOnCanonicalIds(RULES, grant({ approvals: 2, ticket: "INC-1" }), directory);
    expect(result.ok && result.rule.index).toBe(0);
  });

  it("asks of the rule the merge used only that its approvals still count once matched to Identity Center users", () => {
    // The verdict checked ticket, duration and principal on this very rule; no ticket here is the verdict's business.
    const result = recheckOnCanonicalIds(RULES, grant({ ruleIndex: 0, approvals: 2 }), directory);
    expect(result.ok && result.rule.index).toBe(0);
    expect(recheckOnCanonicalIds(RULES, grant({ ruleIndex: 0, approvals: 1 }), directory)).toEqual({
      ok: false,
      reason:
        "rules[0] requires 2 code-owner approvals (the merge had 1), counting only approvers who are not the grantee in Identity Center",
    });
  });

  it("maps rule entries written as account names and permission set ARNs", () => {
    const byName = recheckOnCanonicalIds(RULES, grant({ accountId: "210987654321", ruleIndex: 1 }), directory);
    expect(byName.ok && byName.rule.index).toBe(1);
    const byArn = recheckOnCanonicalIds(
      RULES,
      grant({
        accountId: "210987654321",
        permissionSetName: "PowerUser",
        permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-aaaaaaaaaaaaaaaa/ps-2222222222222222",
        ruleIndex: 1,
      }),
      directory,
    );
    expect(byArn.ok && byArn.rule.index).toBe(1);
    const longer = recheckOnCanonicalIds(RULES, grant({ accountId: "210987654321", durationMs: 6 * 3_600_000 }), directory);
    expect(longer).toEqual({
      ok: false,
      reason:
        "on its canonical ids (AdministratorAccess on account 210987654321) rules[1] decides this request, not rules[2] that its spelling matched, and rules[1] requires a duration of at most 4h; ask again naming the account by id and the permission set by name",
    });
  });

  it("refuses when no rule allows the canonical request", () => {
    const narrow = config("rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: [production]\n    max_duration: 1h\n").rules;
    expect(recheckOnCanonicalIds(narrow, grant({ ruleIndex: 0 }), { accountNames: new Map(), permissionSetNames: new Map() }).ok).toBe(
      false,
    );
  });
});

describe("require_owners on canonical ids", () => {
  // The strict rule for production names two teams; the catch-all after it names none.
  const RULES = config(`rules:
  - permission_sets: [AdministratorAccess]
    accounts: ["123456789012"]
    max_duration: 2h
    require_owners: ["@acme/security", "@acme/platform"]
  - permission_sets: ["*"]
    accounts: ["*"]
    max_duration: 8h
`).rules;
  const directory = { accountNames: new Map([["123456789012", "production"]]), permissionSetNames: new Map<string, string>() };
  const grant = (fields: Partial<CanonicalGrant>): CanonicalGrant => ({
    accountId: "123456789012",
    permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-aaaaaaaaaaaaaaaa/ps-1111111111111111",
    permissionSetName: "AdministratorAccess",
    durationMs: 3_600_000,
    leadTimeMs: 0,
    forSomeoneElse: false,
    approvals: 1,
    ownerGroups: new Set<string>(),
    ...fields,
  });

  it("refuses a request spelled onto the catch-all when its canonical rule's teams did not approve", () => {
    expect(recheckOnCanonicalIds(RULES, grant({ ruleIndex: 1 }), directory)).toEqual({
      ok: false,
      reason:
        "on its canonical ids (AdministratorAccess on account 123456789012) rules[0] decides this request, not rules[1] that its spelling matched, and rules[0] requires an approval from an active member of @acme/security and of @acme/platform; ask again naming the account by id and the permission set by name",
    });
  });

  it("refuses the rule the merge used when a team's only approver turns out to be the grantee in Identity Center", () => {
    expect(recheckOnCanonicalIds(RULES, grant({ ruleIndex: 0, ownerGroups: new Set(["@acme/platform"]) }), directory)).toEqual({
      ok: false,
      reason:
        "rules[0] requires an approval from an active member of @acme/security, counting only approvers who are not the grantee in Identity Center",
    });
  });

  it("accepts it when every team still has an approver", () => {
    const result = recheckOnCanonicalIds(
      RULES,
      grant({ ruleIndex: 0, ownerGroups: new Set(["@acme/security", "@acme/platform"]) }),
      directory,
    );
    expect(result.ok && result.rule.index).toBe(0);
  });
});

describe("max_session_duration on the pull request", () => {
  const CAPPED = config(`rules:
  - permission_sets: [AdministratorAccess, ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 2h
    max_session_duration: 1h
`);
  const readAt = new Date("2026-11-25T11:00:00Z");
  const evaluate = (sessionDurations?: Map<string, { seconds: number; readAt: Date; pr: number }>) =>
    evaluatePolicy({
      now: NOW,
      parsed: request({ permission_set: "AdministratorAccess" }),
      config: CAPPED,
      requester: "alice",
      directory: { accountNames: new Map(), permissionSetNames: new Map(), ...(sessionDurations ? { sessionDurations } : {}) },
    });

  it("refuses a permission set whose session duration the worker read as longer than the cap", () => {
    const decision = evaluate(new Map([["AdministratorAccess", { seconds: 8 * 3600, readAt, pr: 12 }]]));
    expect(decision.allowed).toBe(false);
    expect(decision.problems.map((problem) => [problem.line, problem.severity, problem.message])).toEqual([
      [
        2,
        "error",
        'permission set "AdministratorAccess" has a session duration of 8h in Identity Center (read 2026-11-25 11:00 UTC, provisioning #12), longer than the 1h that rules[0] (.github/jitsudo.yml line 2) allows (max_session_duration): a session opened during the grant could last 8h after it ends; ask for a permission set whose session duration is 1h or less, or ask an Identity Center admin to shorten this one\'s',
      ],
    ]);
  });

  it("allows one within the cap", () => {
    expect(evaluate(new Map([["AdministratorAccess", { seconds: 3600, readAt, pr: 12 }]])).problems).toEqual([]);
  });

  it("warns, without refusing, when the session duration is not known yet: the worker checks it", () => {
    const decision = evaluate();
    expect(decision.allowed).toBe(true);
    expect(decision.problems.map((problem) => [problem.severity, problem.message])).toEqual([
      [
        "warning",
        'rules[0] (.github/jitsudo.yml line 2) allows only permission sets whose session duration is at most 1h (max_session_duration); jitsudo has not read "AdministratorAccess"\'s recently, so it checks it before provisioning, and refuses the grant then if it is longer',
      ],
    ]);
  });
});

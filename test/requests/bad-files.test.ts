/**
 * Hostile and mistaken request files, each with the exact messages it must produce: the file, line
 * and column of the offending key or value, and what to change. Validated with the example policy
 * (.github/jitsudo.yml) as the PR author "alice", the way the pull-request check does.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseTenantConfig } from "../../src/config/tenant.js";
import { formatProblem } from "../../src/parsing/problem.js";
import { validateRequest } from "../../src/requests/validate-request.js";

const policy = parseTenantConfig(readFileSync(new URL("../../.github/jitsudo.yml", import.meta.url)));
if (!policy.ok) throw new Error("the example policy must parse");
const enc = (text: string) => new TextEncoder().encode(text);
const ok = `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate the latency alarms"\n`;

const CASES: Record<string, string | Uint8Array> = {
  "missing account": `permission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate the latency alarms"\n`,
  "missing permission_set": `account: "123456789012"\nduration: 2h\nreason: "Investigate the latency alarms"\n`,
  "missing duration": `account: "123456789012"\npermission_set: ReadOnlyAccess\nreason: "Investigate the latency alarms"\n`,
  "missing reason": `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\n`,
  "typo key": ok.replace("duration", "duraton"),
  "unknown key": ok + "approver: bob\n",
  "account list": ok.replace(`account: "123456789012"`, "account: [123456789012]"),
  "account mapping": ok.replace(`account: "123456789012"`, "account:\n  id: 123456789012"),
  "account empty": ok.replace(`account: "123456789012"`, "account:"),
  "account 11": ok.replace(`"123456789012"`, `"12345678901"`),
  "account 13 unquoted": ok.replace(`"123456789012"`, `1234567890123`),
  "account with space": ok.replace(`"123456789012"`, `" prod"`),
  "ps bad": ok.replace("ReadOnlyAccess", "Read Only"),
  "ps bool": ok.replace("ReadOnlyAccess", "true"),
  "duration nounit": ok.replace("2h", "2"),
  "duration words": ok.replace("2h", "2 hours"),
  "duration zero": ok.replace("2h", "0h0m"),
  "duration overflow": ok.replace("2h", "99999999999999999999h"),
  "duration P1Y": ok.replace("2h", "P1Y"),
  "duration PT": ok.replace("2h", "PT"),
  "duration lowercase iso": ok.replace("2h", "pt2h"),
  "duration over max": ok.replace("2h", "9h"),
  "reason short": ok.replace(`"Investigate the latency alarms"`, "fix"),
  "reason long": ok.replace(`"Investigate the latency alarms"`, JSON.stringify("x".repeat(1001))),
  "reason mapping": ok.replace(`"Investigate the latency alarms"`, "{a: 1}"),
  "ticket bad": ok + "ticket: INC 4711\n",
  "starts_at no tz": ok + "starts_at: 2026-11-26T09:00:00\n",
  "starts_at not date": ok + "starts_at: tomorrow\n",
  "starts_at feb30": ok + "starts_at: 2026-02-30T09:00:00Z\n",
  "principal spaces": ok + "principal: alice smith\n",
  "principal other": ok + "principal: bob@example.com\n",
  "admin no ticket": ok.replace("ReadOnlyAccess", "AdministratorAccess"),
  "no rule": ok.replace("ReadOnlyAccess", "BillingAccess"),
  "under min": `account: staging\npermission_set: PowerUserAccess\nduration: 10m\nreason: "Database upgrade window"\n`,
  "alias bomb": `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n`,
  alias: `account: &acct "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: *acct\n`,
  "tag custom": ok.replace("ReadOnlyAccess", "!ps ReadOnlyAccess"),
  "tag binary": ok.replace(`"Investigate the latency alarms"`, "!!binary aGVsbG8gd29ybGQgaGVsbG8="),
  "two docs": ok + "---\n" + ok,
  duplicate: ok + "duration: 8h\n",
  syntax: `account: "123456789012\npermission_set: ReadOnlyAccess\n`,
  tabs: `account: "123456789012"\n\tpermission_set: ReadOnlyAccess\n`,
  "1MB": ok + "# " + "x".repeat(1024 * 1024) + "\n",
  latin1: Uint8Array.from([
    ...enc(`account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Caf`),
    0xe9,
    ...enc(` outage investigation"\n`),
  ]),
  utf16: Uint8Array.from([0xff, 0xfe, ...[...ok].flatMap((c) => [c.charCodeAt(0), 0])]),
  empty: "",
  "comments only": "# nothing here\n# still nothing\n",
  list: "- account: 1\n",
  scalar: "just some text\n",
  deep: "account: " + "[".repeat(40) + "]".repeat(40) + "\n",
};

/** `line:col: message` for each problem, in order (the file name is the same on every line). */
const EXPECTED: Record<keyof typeof CASES, string[]> = {
  "missing account": ['1:1: missing required key "account"; add account: "<12-digit account id or account name>"'],
  "missing permission_set": ['1:1: missing required key "permission_set"; add permission_set: <permission set name, e.g. ReadOnlyAccess>'],
  "missing duration": ['1:1: missing required key "duration"; add duration: <how long, e.g. 2h; forms: 30m, 2h, 1h30m, 1d or PT2H>'],
  "missing reason": ['1:1: missing required key "reason"; add reason: <why you need this access>'],
  "typo key": [
    '1:1: missing required key "duration"; add duration: <how long, e.g. 2h; forms: 30m, 2h, 1h30m, 1d or PT2H>',
    '3:1: unknown key "duraton"; did you mean "duration"?',
  ],
  "unknown key": [
    '5:1: unknown key "approver"; allowed keys: account, permission_set, duration, reason, ticket, starts_at, principal, break_glass',
  ],
  "account list": ['1:10: "account" must be text, not a list'],
  "account mapping": ['2:3: "account" must be text, not a mapping'],
  "account empty": ['1:9: "account" must be text, not nothing (an empty value)'],
  "account 11": ['1:10: account "12345678901" has 11 digits; an account id has exactly 12 (quote it to keep leading zeros)'],
  "account 13 unquoted": ['1:10: account "1234567890123" has 13 digits; an account id has exactly 12 (quote it to keep leading zeros)'],
  "account with space": ['1:10: account " prod" is neither a 12-digit account id nor an account name (1-50 printable characters)'],
  "ps bad": [
    '2:17: permission_set "Read Only" is neither a permission set name (1-32 of letters, digits and +=,.@_-) nor a permission set ARN',
  ],
  "ps bool": [
    '2:17: no rule in .github/jitsudo.yml allows "true" on account "123456789012"; ask for a permission set and account a rule lists',
  ],
  "duration nounit": ['3:11: duration "2" has no unit; write 2m or 2h'],
  "duration words": ['3:11: duration "2 hours" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H'],
  "duration zero": ['3:11: duration "0h0m" is zero; a duration must be longer than that'],
  "duration overflow": ['3:11: duration "99999999999999999999h" is longer than jitsudo allows (366d)'],
  "duration P1Y": ['3:11: duration "P1Y" uses years, months or weeks, whose length varies; write days or hours, e.g. P7D or PT2H'],
  "duration PT": ['3:11: duration "PT" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H'],
  "duration lowercase iso": ['3:11: duration "pt2h" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H'],
  "duration over max": ['3:11: duration "9h" is longer than the 8h that rules[0] (.github/jitsudo.yml line 14) allows; ask for 8h or less'],
  "reason short": ["4:9: reason is too short; write at least 10 characters saying why you need this access"],
  "reason long": ["4:9: reason is longer than 1000 characters; link to a ticket instead"],
  "reason mapping": ['4:9: "reason" must be text, not a mapping'],
  "ticket bad": ['5:9: ticket "INC 4711" is not a ticket reference; use letters, digits and ._#/:- (at most 64), e.g. INC-4711'],
  "starts_at no tz": [
    '5:12: starts_at "2026-11-26T09:00:00" is not a valid date and time with a time zone; write it like 2026-11-26T09:00:00Z',
  ],
  "starts_at not date": ['5:12: starts_at "tomorrow" is not a valid date and time with a time zone; write it like 2026-11-26T09:00:00Z'],
  "starts_at feb30": [
    '5:12: starts_at "2026-02-30T09:00:00Z" is not a valid date and time with a time zone; write it like 2026-11-26T09:00:00Z',
  ],
  "principal spaces": ['5:12: principal "alice smith" is not an Identity Center user name (1-128 characters, no spaces)'],
  "principal other": [
    '5:12: principal "bob@example.com" is not the author\'s own (alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 14) does not allow requesting for someone else, so remove principal',
  ],
  "admin no ticket": [
    '1:1: rules[1] (.github/jitsudo.yml line 18) requires a ticket for "AdministratorAccess"; add ticket: <ticket id, e.g. INC-4711>',
  ],
  "no rule": [
    '2:17: no rule in .github/jitsudo.yml allows "BillingAccess" on account "123456789012"; ask for a permission set and account a rule lists',
  ],
  "under min": [
    `1:10: warning: account "staging" is a name; policy rules are matched on the account's 12-digit id, which jitsudo looks up and checks again before provisioning (if the rule for that id asks for more, nothing is granted); write the id to see now which rule applies`,
    '3:11: duration "10m" is shorter than the 30m minimum of rules[2] (.github/jitsudo.yml line 23)',
  ],
  "alias bomb": ["2:8: YAML aliases (*a) are not allowed here; write the value out in full (27 aliases in this file)"],
  alias: ["4:9: YAML aliases (*acct) are not allowed here; write the value out in full"],
  "tag custom": ["2:17: YAML tags are not allowed here; remove the tag (!ps)"],
  "tag binary": ["4:18: YAML tags (!!binary) are not allowed here; remove the tag"],
  "two docs": ['5:1: file holds 2 YAML documents; keep one (remove the "---" separators)'],
  duplicate: ['5:1: duplicate key "duration"; each key may appear only once'],
  syntax: ['3:1: YAML syntax error: Missing closing "quote'],
  tabs: ["2:1: YAML syntax error: Tabs are not allowed as indentation"],
  "1MB": ["1:1: file is 1048688 bytes, over the limit of 8192 bytes; keep only the request in it"],
  latin1: ["4:13: file is not valid UTF-8 (byte 0xE9); save it as UTF-8"],
  utf16: ["1:1: file is UTF-16; save it as UTF-8"],
  empty: ["1:1: file is empty; a request needs account, permission_set, duration and reason"],
  "comments only": ["1:1: file is empty; a request needs account, permission_set, duration and reason"],
  list: ["1:1: expected a mapping of keys (account: \u2026), found a list"],
  scalar: ['1:1: expected a mapping of keys (account: \u2026), found text ("just some text")'],
  deep: ["1:26: nesting is deeper than 16 levels; request files are flat"],
};

const judge = (bytes: Uint8Array) =>
  validateRequest("access-requests/x.yaml", bytes, { config: policy.config, requester: "alice", now: new Date("2026-11-25T12:00:00Z") });

describe("bad request files", () => {
  it("covers at least 30 cases", () => {
    expect(Object.keys(CASES).length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.entries(CASES))("%s", (name, content) => {
    const review = judge(typeof content === "string" ? enc(content) : content);
    expect(review.valid).toBe(false);
    expect(review.problems.map(formatProblem)).toEqual(EXPECTED[name]!.map((line) => `access-requests/x.yaml:${line}`));
  });
});

describe("good request files", () => {
  it.each([
    ["the smallest request", ok],
    ["an unquoted account id keeps its leading zero", ok.replace('"123456789012"', "012345678901")],
    ["ISO 8601 and compound durations", ok.replace("2h", "PT1H30M")],
    ["a ticket and a future start", `${ok}ticket: INC-4711\nstarts_at: 2026-11-26T09:00:00+01:00\n`],
    ["the author's own principal", `${ok}principal: alice@example.com\n`],
    ["a UTF-8 byte order mark and CRLF line ends", `\uFEFF${ok.replaceAll("\n", "\r\n")}`],
  ])("%s", (_name, content) => {
    const review = judge(enc(content));
    expect(review.problems.map(formatProblem)).toEqual([]);
    expect(review.valid).toBe(true);
  });

  it("accepts an account by name, warning that rules are matched on its id", () => {
    const review = judge(enc(ok.replace('"123456789012"', "production")));
    expect(review.valid).toBe(true);
    expect(review.problems.map((problem) => [problem.severity, problem.line, problem.column])).toEqual([["warning", 1, 10]]);
  });

  it("keeps the account exactly as written", () => {
    const review = judge(enc(ok.replace('"123456789012"', "012345678901")));
    expect(review.parsed?.request.account).toBe("012345678901");
  });

  it("warns, without failing, about a start in the past", () => {
    const review = judge(enc(`${ok}starts_at: 2026-11-01T09:00:00Z\n`));
    expect(review.valid).toBe(true);
    expect(review.problems.map(formatProblem)).toEqual([
      'access-requests/x.yaml:5:12: warning: starts_at "2026-11-01T09:00:00Z" is in the past; access will start when the merge is processed',
    ]);
  });
});

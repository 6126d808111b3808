/**
 * The pure parts of `jitsudo request`: the file's name and branch, its YAML (every reason must come
 * back from the validator's parser as it was given), problems told as flags, "did you mean", and
 * who can approve. No I/O.
 */
import { describe, expect, it } from "vitest";
import { approversOf } from "../../src/cli/approvers.js";
import { parseRepoName, repoOfRemote } from "../../src/cli/github-api.js";
import { nameHint } from "../../src/cli/did-you-mean.js";
import {
  branchName,
  defaultName,
  formatFlagProblem,
  inFlagTerms,
  problemsAsFlags,
  renderRequest,
  requestPath,
  slug,
  type RequestFields,
} from "../../src/cli/request-file.js";
import { judgeGovernance } from "../../src/approval/governance.js";
import { parseTenantConfig, type TenantConfig } from "../../src/config/tenant.js";
import { closest } from "../../src/parsing/did-you-mean.js";
import { parseRequestFile } from "../../src/requests/access-request.js";
import { validateRequest } from "../../src/requests/validate-request.js";
import type { FileBytes } from "../../src/github/types.js";
import { EXAMPLE_POLICY } from "../support/access-clone.js";

const encode = (text: string) => new TextEncoder().encode(text);
const FIELDS: RequestFields = { account: "prod", permission_set: "ReadOnlyAccess", duration: "1h", reason: "Investigate the alarms" };

function examplePolicy(): TenantConfig {
  const parsed = parseTenantConfig(encode(EXAMPLE_POLICY));
  if (!parsed.ok) throw new Error("the example policy must parse");
  return parsed.config;
}

describe("the request file's name", () => {
  it("is access-requests/<login>/<UTC date>-<ticket, permission set, account>.yaml", () => {
    const date = new Date("2026-11-25T23:30:00-05:00"); // already the 26th in UTC
    expect(requestPath("alice", date, defaultName(FIELDS))).toBe("access-requests/alice/2026-11-26-readonlyaccess-prod.yaml");
    expect(defaultName({ ...FIELDS, ticket: "INC-4711", account: "123456789012" })).toBe("inc-4711-readonlyaccess-123456789012");
  });

  it("keeps only lower-case letters, digits and single dashes, at most 60 characters", () => {
    expect(slug("  Ünïcode: Prod / EU #1 ")).toBe("unicode-prod-eu-1");
    expect(slug("arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef-prod")).toBe(
      "arn-aws-sso-permissionset-ssoins-0123456789abcdef-ps-0123456",
    );
    expect(slug("a".repeat(59) + "-b")).toBe("a".repeat(59));
    expect(slug("日本")).toBe("request");
  });

  it("gives the branch the file's name, and a suffix from the second attempt on", () => {
    const path = "access-requests/alice/2026-11-25-readonlyaccess-prod.yaml";
    expect([1, 2, 3].map((attempt) => branchName(path, attempt))).toEqual([
      "jitsudo/alice/2026-11-25-readonlyaccess-prod",
      "jitsudo/alice/2026-11-25-readonlyaccess-prod-2",
      "jitsudo/alice/2026-11-25-readonlyaccess-prod-3",
    ]);
  });
});

describe("the repository", () => {
  it("is owner/name from --repo, or from an origin URL GitHub gives; never from a path", () => {
    expect(parseRepoName("acme/access")).toEqual({ owner: "acme", name: "access" });
    expect(["acme", "acme/access/x", "-acme/access", "acme/acc ess"].map(parseRepoName)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(
      [
        "https://github.com/acme/access.git",
        "https://token@ghe.example.com/acme/access",
        "ssh://git@github.com:22/acme/access.git",
        "git@github-work:acme/access.git",
      ].map(repoOfRemote),
    ).toEqual(Array.from({ length: 4 }, () => ({ owner: "acme", name: "access" })));
    expect(["/srv/git/acme/access.git", "../access", "file:///srv/acme/access"].map(repoOfRemote)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("the request file's YAML", () => {
  it("reads like the documented example: the account quoted, the reason quoted, the rest plain", () => {
    expect(renderRequest({ ...FIELDS, account: "012345678901", ticket: "INC-4711", starts_at: "2026-11-26T09:00:00Z" })).toBe(
      [
        'account: "012345678901"',
        "permission_set: ReadOnlyAccess",
        "duration: 1h",
        'reason: "Investigate the alarms"',
        "ticket: INC-4711",
        "starts_at: 2026-11-26T09:00:00Z",
        "",
      ].join("\n"),
    );
  });

  const reasons = [
    "Restore deploys: the payments job is down",
    "Incident #4711 # not a comment",
    "It's \"quoted\" and 'single' quoted",
    '"Starts with a quote" and ends plain',
    "- starts like a list item, @ and % and | and >",
    "yes",
    "line one\nline two: with a colon\n# and a hash",
    "  leading spaces\nand a second line",
    "trailing newlines\n\n",
    "\nleading newline, then text",
    "windows\r\nline endings",
    "a bell \u0007 and a tab\there",
    "back\\slash and unicode \u2028 separator",
    "null",
    "ends with a space ",
  ];
  it.each(reasons)("brings the reason %j back unchanged through the validator's parser", (reason) => {
    const text = renderRequest({ ...FIELDS, account: "012345678901", reason });
    const parsed = parseRequestFile("access-requests/alice/x.yaml", encode(text));
    // Reasons under 10 characters are refused, but still read back as written.
    if (!parsed.ok) {
      expect(parsed.problems.map((problem) => problem.message)).toEqual([
        "reason is too short; write at least 10 characters saying why you need this access",
      ]);
      return;
    }
    expect([parsed.parsed.request.reason, parsed.parsed.request.account]).toEqual([reason, "012345678901"]);
  });
});

describe("problems told as flags", () => {
  it("names the flag of the key each problem is at, and the flag to pass for one about the whole request", () => {
    const fields = {
      ...FIELDS,
      account: "123456789012",
      permission_set: "AdministratorAccess",
      duration: "9h",
      reason: "line one\nline two",
    };
    const text = renderRequest({ ...fields, starts_at: "2020-01-01T00:00:00Z" });
    const review = validateRequest("access-requests/alice/x.yaml", encode(text), {
      config: examplePolicy(),
      requester: "alice",
      now: new Date("2026-11-25T12:00:00Z"),
    });
    expect(problemsAsFlags(text, review.problems).map(formatFlagProblem)).toEqual([
      'warning: --starts-at: starts_at "2020-01-01T00:00:00Z" is in the past; access will start when the merge is processed',
      'error: --duration: duration "9h" is longer than the 2h that rules[1] (.github/jitsudo.yml line 18) allows; ask for 2h or less',
      'error: rules[1] (.github/jitsudo.yml line 18) requires a ticket for "AdministratorAccess"; pass --ticket <ticket id, e.g. INC-4711>',
    ]);
  });

  it("rewrites only the advice that names a request key", () => {
    expect(inFlagTerms("add ticket: <id>; remove starts_at; remove break_glass and add owners: x")).toBe(
      "pass --ticket <id>; leave out --starts-at; remove break_glass and add owners: x",
    );
  });
});

describe("did you mean", () => {
  const config = examplePolicy();
  it("suggests the nearest permission set the policy lists, ignoring case", () => {
    expect(nameHint(config, "readonlyaccess", "prod")).toEqual({
      flag: "--permission-set",
      message: 'permission set "readonlyaccess" is in no rule of .github/jitsudo.yml; did you mean "ReadOnlyAccess"?',
    });
    expect(nameHint(config, "PowerUser", "staging")?.message).toBe(
      'permission set "PowerUser" is in no rule of .github/jitsudo.yml; it lists "ReadOnlyAccess", "AdministratorAccess", "PowerUserAccess"',
    );
  });

  it("suggests an account of the rules that list the permission set, and nothing when a rule matches", () => {
    expect(nameHint(config, "PowerUserAccess", "stagng")).toEqual({
      flag: "--account",
      message: 'account "stagng" is not among the accounts .github/jitsudo.yml lists for "PowerUserAccess"; did you mean "staging"?',
    });
    expect(nameHint(config, "PowerUserAccess", "staging")).toBeUndefined();
    // ReadOnlyAccess is allowed on "*": the account is never the problem.
    expect(nameHint(config, "ReadOnlyAccess", "anything")).toBeUndefined();
  });

  it("suggests only what is near: within max(2, a third of the length) edits", () => {
    expect(closest("prdo", ["prod", "staging"])).toBe("prod");
    expect(closest("abcdefghi", ["abcxyzghi"])).toBe("abcxyzghi");
    expect(closest("abcdefghi", ["abwxyzghi"])).toBeUndefined();
  });
});

describe("who can approve", () => {
  const file = (text: string): FileBytes => ({ kind: "file", bytes: encode(text), blobSha: "0".repeat(40) });
  const governance = (codeowners: FileBytes | undefined, errors: { line: number; kind: string; message: string; path: string }[] = []) =>
    judgeGovernance({
      configFile: file(EXAMPLE_POLICY),
      codeownersFiles: [codeowners ?? { kind: "missing" }, { kind: "missing" }, { kind: "missing" }],
      githubCodeowners: codeowners ? { kind: "ok", errors } : { kind: "no-file" },
    });
  const path = "access-requests/alice/2026-11-25-readonlyaccess-prod.yaml";

  it("names the code owners of the file's path and the deciding line, never the requester", () => {
    const owners = "/access-requests/ @bob @acme/platform\n/access-requests/alice/ @alice @carol\n";
    expect(approversOf(governance(file(owners)), path, "alice")).toEqual({
      owners: "@carol (.github/CODEOWNERS line 2; not you, although it names you)",
      blockers: [],
    });
    expect(approversOf(governance(file(owners)), "access-requests/dave/x.yaml", "dave").owners).toBe(
      "@bob, @acme/platform (.github/CODEOWNERS line 1, a team through its active members)",
    );
  });

  it("says what stops every approval: no owners, only the requester, an invalid line, an ambiguous one", () => {
    expect(approversOf(governance(undefined), path, "alice").blockers).toEqual([
      "the base branch has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS), so nobody can approve requests",
    ]);
    expect(approversOf(governance(file("/docs/ @bob\n")), path, "alice")).toEqual({
      owners: "nobody",
      blockers: [
        'no line of .github/CODEOWNERS at the default branch owns access-requests/alice/2026-11-25-readonlyaccess-prod.yaml, so nobody can approve it; an admin must add a line such as "/access-requests/ @org/approvers" in a pull request of its own',
      ],
    });
    expect(approversOf(governance(file("/access-requests/ @alice\n")), path, "alice").blockers).toEqual([
      "only you (@alice) own access-requests/alice/2026-11-25-readonlyaccess-prod.yaml by .github/CODEOWNERS line 1, and a requester never approves their own request; ask an admin to add approvers",
    ]);
    expect(approversOf(governance(file("!/x/ @bob\n/access-requests/ @bob\n")), path, "alice").blockers[0]).toMatch(
      /^\.github\/CODEOWNERS line 1 on the base branch is invalid/,
    );
    expect(approversOf(governance(file("* @bob\naccess-req* @acme/security\n")), path, "alice").blockers).toHaveLength(1);
  });
});

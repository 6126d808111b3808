import { describe, expect, it } from "vitest";
import { renderGrantsComment } from "../../src/github/grant-comments.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";

const grant = (overrides: Partial<GrantRow>): GrantRow =>
  ({
    id: "g1",
    tenant: "1",
    repo: "acme/access",
    pr_number: 7,
    file_path: "access-requests/alice.yaml",
    merge_commit_sha: "e".repeat(40),
    principal: "alice@example.com",
    account_ref: "production",
    account_id: "123456789012",
    permission_set_ref: "ReadOnlyAccess",
    starts_at: new Date("2026-11-25T12:00:00Z"),
    expires_at: new Date("2026-11-25T14:00:00Z"),
    approvers: ["bob"],
    status: "active",
    attempts: 0,
    last_error: null,
    ended_at: null,
    active_at: new Date("2026-11-25T12:00:30Z"),
    create_requested_at: new Date("2026-11-25T12:00:05Z"),
    session_duration_seconds: 3600,
    updated_at: new Date("2026-11-25T12:01:00Z"),
    ...overrides,
  }) as GrantRow;

describe("the sticky comment after the merge", () => {
  it("shows an active grant until when, with the resolved account, and the commands", () => {
    expect(renderGrantsComment([grant({})])).toBe(
      [
        "### jitsudo: access active :white_check_mark:",
        "",
        "Merged as `eeeeeee` and approved by @bob.",
        "",
        "#### `access-requests/alice.yaml`",
        "",
        "| | |",
        "|---|---|",
        "| Status | **active** until 2026-11-25 14:00 UTC; sessions opened before then can last until 2026-11-25 15:00 UTC (the permission set's session duration is 1h) |",
        "| Principal | `alice@example.com` |",
        "| Account | `production (123456789012)` |",
        "| Permission set | `ReadOnlyAccess` |",
        "| Access | 2026-11-25 12:00 UTC to 2026-11-25 14:00 UTC |",
        "| Approved by | @bob |",
        "",
        "Commands: `/jitsudo revoke` ends this pull request's access early (the requester or a code owner of the request file); `/jitsudo ack` records a code owner's review of break-glass access granted by this pull request.",
      ].join("\n"),
    );
  });

  it.each([
    [
      { status: "revoked", ended_at: new Date("2026-11-25T14:00:01Z") },
      "access ended",
      "revoked at 2026-11-25 14:00 UTC; sessions opened before 2026-11-25 14:00 UTC can last until 2026-11-25 15:00 UTC (the permission set's session duration is 1h)",
    ],
    [
      { status: "revoked", ended_at: new Date("2026-11-25T13:10:00Z"), session_duration_seconds: 8 * 3600 },
      "access ended",
      "revoked at 2026-11-25 13:10 UTC; sessions opened before 2026-11-25 13:10 UTC can last until 2026-11-25 21:10 UTC (the permission set's session duration is 8h)",
    ],
    [
      // Provisioned before jitsudo kept session durations: the bound AWS allows.
      { status: "revoked", ended_at: new Date("2026-11-25T14:00:01Z"), session_duration_seconds: null },
      "access ended",
      "revoked at 2026-11-25 14:00 UTC; sessions opened before 2026-11-25 14:00 UTC can last up to the permission set's session duration (1 to 12 hours) longer",
    ],
    [
      { status: "revoking" },
      "access being removed :hourglass:",
      "revoking: removing the assignment; sessions opened before it is removed can last 1h after that",
    ],
    [
      { status: "failed", last_error: "Account 123456789012 is suspended" },
      "access failed :x:",
      "**failed**: Account 123456789012 is suspended",
    ],
    [
      { status: "revoking", attempts: 3, last_error: "AccessDenied: not authorized" },
      "access being removed :hourglass:",
      ":warning: **removal failing, still assigned**: AccessDenied\\: not authorized (attempt 3; jitsudo keeps retrying)",
    ],
    [
      { status: "expired", ended_at: new Date("2026-11-25T14:00:00Z") },
      "access ended",
      "ended at 2026-11-25 14:00 UTC; the assignment stays for another live grant",
    ],
    [{ status: "provisioning" }, "access approved, being provisioned :hourglass:", "provisioning: creating the assignment"],
  ] as const)("states %j", (overrides, headline, status) => {
    const body = renderGrantsComment([grant(overrides)]);
    expect(body.split("\n")[0]).toBe(`### jitsudo: ${headline}`);
    expect(body).toContain(`| Status | ${status} |`);
  });

  it("says when drift re-created an assignment, and keeps AWS's words from becoming markdown", () => {
    const body = renderGrantsComment(
      [grant({ status: "failed", last_error: "<img src=x> @org/everyone | broken" })],
      new Map([["g1", new Date("2026-11-25T13:00:00Z")]]),
    );
    expect(body).toContain("| Status | **failed**: \\<img src=x\\> @\u200borg/everyone \\| broken |");
    expect(body).toContain("| Drift | the assignment was deleted outside jitsudo; jitsudo created it again (2026-11-25 13:00 UTC) |");
  });
});

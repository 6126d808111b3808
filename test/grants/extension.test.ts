/** The pure rules of extensions and expiry reminders, and the lifecycle moves they use. */
import { describe, expect, it } from "vitest";
import { parseTenantConfig } from "../../src/config/tenant.js";
import { renderGrantsComment } from "../../src/github/grant-comments.js";
import { renderReminderComment } from "../../src/github/reminder-comments.js";
import {
  awaitsExtension,
  EXTENSION_WAIT_MS,
  isExtension,
  type ExtendedCandidate,
  type ExtensionRequest,
} from "../../src/grants/extension.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { canTransition, extendedEnd, extensionElsewhere, NOW } from "../../src/grants/lifecycle.js";
import { DEFAULT_REMIND_BEFORE_MS, reminderDueAt, remindBeforeSeconds } from "../../src/grants/reminders.js";
import { policyYaml } from "../support/policy-fixtures.js";

const T = new Date("2026-11-25T12:00:00Z");
const at = (minutes: number) => new Date(T.getTime() + minutes * 60_000);

const old: ExtendedCandidate = {
  status: "active",
  account_ref: "123456789012",
  permission_set_ref: "ReadOnlyAccess",
  principal: "alice@example.com",
  instance_arn: "arn:aws:sso:::instance/ssoins-aaaaaaaaaaaaaaaa",
  expires_at: at(60),
};
const next: ExtensionRequest = {
  accountRef: "123456789012",
  permissionSetRef: "ReadOnlyAccess",
  principal: "alice@example.com",
  startsAt: at(30),
  startsOnMerge: true,
  aws: {},
};

describe("isExtension", () => {
  it("is an edit of an active grant for the same assignment, starting at the merge, before the old one ends", () => {
    expect(isExtension(old, next)).toBe(true);
    expect(isExtension(old, { ...next, aws: { instanceArn: old.instance_arn! } })).toBe(true);
  });

  it.each([
    ["the old grant is not active yet", { old: { status: "approved" as const } }],
    ["the old grant is being removed", { old: { status: "revoking" as const } }],
    ["another account", { next: { accountRef: "210987654321" } }],
    ["the same account spelt by name (AWS would have to say)", { next: { accountRef: "production" } }],
    ["another permission set", { next: { permissionSetRef: "AdministratorAccess" } }],
    ["another principal", { next: { principal: "bob@example.com" } }],
    ["a starts_at in the future", { next: { startsOnMerge: false } }],
    ["a merge record that does not say when it starts", { next: { startsOnMerge: undefined } }],
    ["another instance", { next: { aws: { instanceArn: "arn:aws:sso:::instance/ssoins-bbbbbbbbbbbbbbbb" } } }],
    ["a window opening after the old one closed", { next: { startsAt: at(61) } }],
  ])("is not when %s", (_, change: { old?: Partial<ExtendedCandidate>; next?: Partial<ExtensionRequest> }) => {
    expect(isExtension({ ...old, ...change.old }, { ...next, ...change.next })).toBe(false);
  });
});

describe("awaitsExtension", () => {
  const pending = { status: "provisioning" as const, failure_reason: null, starts_at: at(30) };
  it("waits while the extension is on its way, for at most EXTENSION_WAIT_MS after the old grant's expiry", () => {
    expect(awaitsExtension(old, pending, at(61))).toBe(true);
    expect(awaitsExtension(old, { ...pending, status: "approved" }, at(61))).toBe(true);
    expect(awaitsExtension(old, pending, new Date(old.expires_at.getTime() + EXTENSION_WAIT_MS))).toBe(false);
  });

  it("does not wait for an extension that failed, is being given up, ended, or has not started", () => {
    for (const status of ["failed", "revoked", "revoking", "active", "expired"] as const)
      expect(awaitsExtension(old, { ...pending, status }, at(61))).toBe(false);
    expect(awaitsExtension(old, { ...pending, failure_reason: "AWS refused it" }, at(61))).toBe(false);
    expect(awaitsExtension(old, { ...pending, status: "approved", starts_at: at(90) }, at(61))).toBe(false);
  });
});

describe("the lifecycle's extension moves", () => {
  it("ends the extended grant expired, the assignment kept, with an `extended` event naming the extension", () => {
    const move = extendedEnd({ id: "g2", pr_number: 12, expires_at: at(240) });
    expect(canTransition("active", move.to)).toBe(true);
    expect(move.to).toBe("expired");
    expect(move.event.type).toBe("extended");
    expect(move.event.reason).toContain("extended by #12 without interruption");
    expect(move.changes.ended_at).toBe(NOW);
    expect(move.report).toBe("pull-request");
  });

  it("removes the old grant when the extension holds another assignment", () => {
    const move = extensionElsewhere({ id: "g2", pr_number: 12 });
    expect([move.to, move.event.type, move.wakesWorkers, canTransition("active", move.to)]).toEqual(["revoking", "superseded", true, true]);
  });
});

describe("remind_before", () => {
  const rule = (extra: string) => parseTenantConfig(new TextEncoder().encode(`${policyYaml()}${extra}`));
  const remindBefore = (extra: string) => {
    const result = rule(extra);
    return result.ok ? result.config.rules[0]!.remindBeforeMs : result.problems.map((problem) => problem.message);
  };

  it("defaults to 10m, takes a duration, and `off`", () => {
    expect(remindBefore("")).toBe(DEFAULT_REMIND_BEFORE_MS);
    expect(remindBefore("    remind_before: 30m\n")).toBe(30 * 60_000);
    expect(remindBefore("    remind_before: PT1H\n")).toBe(3_600_000);
    expect(remindBefore("    remind_before: off\n")).toBeNull();
    expect(remindBefore("    remind_before: soon\n")).toEqual([expect.stringContaining("rules[0].remind_before")]);
  });

  it("is kept on a grant only when the grant is longer than it", () => {
    expect(remindBeforeSeconds(2 * 3_600_000, DEFAULT_REMIND_BEFORE_MS)).toBe(600);
    expect(remindBeforeSeconds(10 * 60_000, DEFAULT_REMIND_BEFORE_MS)).toBeNull();
    expect(remindBeforeSeconds(5 * 60_000, DEFAULT_REMIND_BEFORE_MS)).toBeNull();
    expect(remindBeforeSeconds(2 * 3_600_000, null)).toBeNull();
    expect(reminderDueAt({ expires_at: at(60), remind_before_seconds: 600 })).toEqual(at(50));
    expect(reminderDueAt({ expires_at: at(60), remind_before_seconds: null })).toBeUndefined();
  });
});

describe("comments", () => {
  const grant = (overrides: Partial<GrantRow>): GrantRow =>
    ({
      id: "g1",
      pr_number: 7,
      file_path: "access-requests/alice.yaml",
      merge_commit_sha: "a".repeat(40),
      requester: "alice",
      principal: "alice@example.com",
      account_ref: "123456789012",
      account_id: "123456789012",
      permission_set_ref: "ReadOnlyAccess",
      status: "active",
      starts_at: at(0),
      expires_at: at(120),
      ended_at: null,
      updated_at: at(0),
      approvers: ["bob"],
      superseded_by: null,
      extends_grant_id: null,
      ...overrides,
    }) as GrantRow;

  it("says on both pull requests that the assignment stayed in place", () => {
    const old = grant({ status: "expired", ended_at: at(90), superseded_by: "g2" });
    const extension = grant({ id: "g2", pr_number: 12, extends_grant_id: "g1", expires_at: at(330) });
    const link = (row: GrantRow) => ({
      id: row.id,
      pr_number: row.pr_number,
      status: row.status,
      expires_at: row.expires_at,
      superseded_by: row.superseded_by,
    });
    const oldComment = renderGrantsComment([old], new Map(), { extendedBy: new Map([["g1", link(extension)]]), extends: new Map() });
    expect(oldComment).toContain("extended by #12 without interruption at 2026-11-25 13:30 UTC; the assignment stayed in place");
    const newComment = renderGrantsComment([extension], new Map(), { extendedBy: new Map(), extends: new Map([["g2", link(old)]]) });
    expect(newComment).toContain("| Extends | extends #7's grant; the assignment stayed in place (no interruption) |");
    const failed = renderGrantsComment([grant({ superseded_by: "g2" })], new Map(), {
      extendedBy: new Map([["g1", { ...link(extension), status: "failed" }]]),
      extends: new Map(),
    });
    expect(failed).toContain("its extension by #12 did not take effect, so this access ends 2026-11-25 14:00 UTC");
  });

  it("reminds the requester by mention, and never mentions what is not a login", () => {
    const body = renderReminderComment(grant({}));
    expect(body.startsWith("<!-- jitsudo:reminder:g1 -->\n")).toBe(true);
    expect(body).toContain("@alice, the access this pull request granted ends at **2026-11-25 14:00 UTC**");
    expect(body).toContain("edits `duration` in `access-requests/alice.yaml`");
    expect(renderReminderComment(grant({ requester: "acme/everyone" }))).not.toContain("@acme");
  });
});

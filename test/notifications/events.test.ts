/** Pure: the mapping, the rendering (Slack escaping), the signature, the URL policy and the config. */
import { describe, expect, it } from "vitest";
import { parseTenantConfig } from "../../src/config/tenant.js";
import { channelsOf, webhookUrlProblem } from "../../src/notifications/channels.js";
import { backoffMs } from "../../src/notifications/dispatcher.js";
import { notificationTypeOf, slackEscape, slackText, toNotification, type OutboxEvent } from "../../src/notifications/events.js";
import { sign, verify } from "../../src/notifications/signature.js";
import { slackFailure } from "../../src/notifications/slack.js";
import { policyYaml } from "../support/policy-fixtures.js";

const grant = {
  id: "6f1c2a1e-0000-4000-8000-000000000001",
  status: "active",
  file_path: "access-requests/alice.yaml",
  requester: "alice",
  principal: "alice@example.com",
  account_ref: "production",
  account_id: "123456789012",
  permission_set_ref: "ReadOnlyAccess",
  starts_at: "2026-11-25T12:00:00.000Z",
  expires_at: "2026-11-25T13:30:00.000Z",
  reason: "fix <!channel> & <@U024BE7LH> <https://evil.example|click> @here",
  ticket: "INC-1 <!here>",
  approvers: ["bob"],
  failure_reason: null,
  last_error: null,
};
const event = (overrides: Partial<OutboxEvent> = {}): OutboxEvent => ({
  eventId: "0b7c8f5e-1111-4222-8333-444455556666",
  type: "active",
  fromStatus: "provisioning",
  toStatus: "active",
  repo: "acme/access",
  prNumber: 7,
  grantId: grant.id,
  occurredAt: new Date("2026-11-25T12:00:05Z"),
  payload: { actor: "aws", reason: "assignment created", grant },
  ...overrides,
});

describe("mapping events to notifications", () => {
  it.each([
    ["approved", null, "approved", "grant.approved"],
    ["active", "provisioning", "active", "grant.active"],
    ["revoked", "revoking", "revoked", "grant.revoked"],
    ["superseded", "approved", "revoked", "grant.revoked"],
    ["expired", "revoking", "expired", "grant.expired"],
    ["failed", "provisioning", "failed", "grant.failed"],
    ["rejected", null, null, "merge.rejected"],
    ["drift_unexpected", null, null, "drift.unexpected"],
    ["expiry_reminder", "active", "active", "grant.expiring"],
    ["extended", "active", "expired", "grant.extended"],
    ["break_glass", null, "approved", "break_glass.used"],
    ["break_glass_review_due", "active", "active", "break_glass.review_due"],
    ["request_waiting", null, null, "request.waiting"],
    ["revoke_failed", "revoking", "revoking", undefined],
    ["provisioning", "approved", "provisioning", undefined],
    ["drift_repaired", "active", "provisioning", undefined],
  ])("%s (%s → %s) is %s", (type, fromStatus, toStatus, expected) => {
    expect(notificationTypeOf({ type, fromStatus, toStatus })).toBe(expected);
  });
});

describe("rendering", () => {
  it("builds the webhook body with the PR link, the grant and the event id", () => {
    const body = toNotification(event(), "https://github.example.com/")!;
    expect(body).toMatchObject({
      id: "0b7c8f5e-1111-4222-8333-444455556666",
      type: "grant.active",
      occurred_at: "2026-11-25T12:00:05.000Z",
      pull_request: { number: 7, url: "https://github.example.com/acme/access/pull/7" },
      grant: {
        principal: "alice@example.com",
        account: "123456789012",
        permission_set: "ReadOnlyAccess",
        expires_at: "2026-11-25T13:30:00.000Z",
      },
    });
    expect(body.summary).toBe(
      "Access active: alice@example.com on 123456789012 as ReadOnlyAccess until 2026-11-25 13:30 UTC (acme/access#7)",
    );
  });

  it("escapes request text for Slack: no mention, no link, no broadcast can be injected", () => {
    const text = slackText(toNotification(event(), "https://github.com")!);
    expect(text).toContain("fix &lt;!channel&gt; &amp; &lt;@U024BE7LH&gt; &lt;https://evil.example|click&gt; @here");
    expect(text).toContain("(ticket INC-1 &lt;!here&gt;)");
    // The only Slack control sequence left is jitsudo's own link to the pull request.
    expect(text.match(/<[^>]*>/g)).toEqual(["<https://github.com/acme/access/pull/7|acme/access#7>"]);
  });

  it("shows unprintable characters and caps long values", () => {
    expect(slackEscape("a\u202eb\nc")).toBe("a\\u202eb\\u000ac");
    expect(slackEscape("x".repeat(500), 10)).toBe(`${"x".repeat(10)}…`);
  });

  it("renders a waiting request with who may approve", () => {
    const waiting = event({
      type: "request_waiting",
      fromStatus: null,
      toStatus: null,
      grantId: null,
      payload: {
        headSha: "a".repeat(40),
        requests: [
          {
            file: "f",
            principal: "alice",
            account: "prod",
            permissionSet: "Admin",
            duration: "1h",
            reason: "<!here>",
            approvers: ["@bob"],
            approvalsRequired: 1,
          },
        ],
      },
    });
    const text = slackText(toNotification(waiting, "https://github.com")!);
    expect(text).toContain("can approve: @bob (1 needed)");
    expect(text).toContain("&lt;!here&gt;");
  });

  it("says nothing for an event that is not a notification", () => {
    expect(
      toNotification(event({ type: "revoke_failed", fromStatus: "revoking", toStatus: "revoking" }), "https://github.com"),
    ).toBeUndefined();
  });
});

describe("signature", () => {
  it("is GitHub's scheme: sha256= and the hex HMAC of the raw body", () => {
    // echo -n '{"a":1}' | openssl dgst -sha256 -hmac secret
    expect(sign("secret", '{"a":1}')).toBe("sha256=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494");
    const body = JSON.stringify({ id: "x" });
    expect(verify("secret", body, sign("secret", body))).toBe(true);
    expect(verify("secret", `${body} `, sign("secret", body))).toBe(false);
    expect(verify("other", body, sign("secret", body))).toBe(false);
    expect(verify("secret", body, undefined)).toBe(false);
    expect(sign("secret", body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});

describe("webhook URLs (SSRF)", () => {
  it.each([
    ["https://hooks.example.com/jitsudo", undefined],
    ["http://127.0.0.1:8080/hook", undefined],
    ["http://localhost/hook", undefined],
    ["http://hooks.example.com/jitsudo", "must be https (http is allowed only for localhost)"],
    ["http://169.254.169.254/latest/meta-data", "must be https (http is allowed only for localhost)"],
    ["https://169.254.169.254/", "must not point at a private, link-local or unspecified address"],
    ["https://10.1.2.3/hook", "must not point at a private, link-local or unspecified address"],
    ["https://192.168.0.1/hook", "must not point at a private, link-local or unspecified address"],
    ["https://[fd00::1]/hook", "must not point at a private, link-local or unspecified address"],
    ["https://[::ffff:10.0.0.1]/hook", "must not point at a private, link-local or unspecified address"],
    ["https://user:pw@hooks.example.com/", "must not carry credentials (user:password@)"],
    ["ftp://hooks.example.com/", "must be an https:// URL"],
    ["not a url", "is not a URL"],
  ])("%s", (url, problem) => {
    // Loopback allowed, as the tests' own receivers need (JITSUDO_WEBHOOK_ALLOW_LOOPBACK).
    expect(webhookUrlProblem(url, { allowLoopback: true })).toBe(problem);
  });

  const LOOPBACK = "must not point at this host (localhost, 127.0.0.0/8, ::1; allowed only with JITSUDO_WEBHOOK_ALLOW_LOOPBACK, for tests)";
  const PRIVATE = "must not point at a private, link-local or unspecified address";
  it.each([
    // The worker's own host: a sidecar's admin port answers /quitquitquit on loopback.
    ["http://127.0.0.1:15000/quitquitquit", LOOPBACK],
    ["http://2130706433/", LOOPBACK],
    ["http://0x7f.1/", LOOPBACK],
    ["http://127.1:15020/quitquitquit", LOOPBACK],
    ["https://127.0.0.1/", LOOPBACK],
    ["http://[::1]:15020/", LOOPBACK],
    ["https://localhost./hook", LOOPBACK],
    // Ranges that carry or reach a private address.
    ["https://[::a00:1]/", PRIVATE],
    ["https://[64:ff9b::a00:1]/", PRIVATE],
    ["https://[2002:a00:1::]/", PRIVATE],
    ["https://[ff02::1]/", PRIVATE],
    ["https://198.18.0.1/", PRIVATE],
    ["https://192.0.0.1/", PRIVATE],
    ["https://224.0.0.1/", PRIVATE],
    ["https://hooks.example.com/jitsudo", undefined],
  ])("by default, %s", (url, problem) => {
    expect(webhookUrlProblem(url)).toBe(problem);
  });
});

describe("the notifications config", () => {
  const parse = (notifications: string) => parseTenantConfig(new TextEncoder().encode(`${policyYaml()}notifications:\n${notifications}`));

  it("reads the channels", () => {
    const result = parse(
      '  slack:\n    channel: "#access"\n  webhooks:\n    - url: https://hooks.example.com/a\n    - url: https://hooks.example.com/a\n',
    );
    expect(result.ok && channelsOf(result.config.notifications).map((channel) => channel.key)).toEqual([
      "slack:#access",
      "webhook:https://hooks.example.com/a",
    ]);
  });

  it("refuses a webhook URL that is not https, at its line, saying why", () => {
    const result = parse("  webhooks:\n    - url: http://internal.example.com/hook\n");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.map((problem) => [problem.line, problem.message])).toEqual([
      [7, 'notifications.webhooks[0].url "http://internal.example.com/hook" must be https (http is allowed only for localhost)'],
    ]);
  });

  it("refuses a value that is not a URL, and a bad Slack channel, through the schema", () => {
    const result = parse('  slack:\n    channel: "access team"\n  webhooks:\n    - url: "javascript:alert(1)"\n');
    expect(!result.ok && result.problems.map((problem) => problem.message)).toEqual([
      'notifications.slack.channel "access team" is not a Slack channel (#name or a channel id like C0123456789)',
      'notifications webhook url "javascript:alert(1)" is not an https:// URL',
    ]);
  });
});

describe("retries", () => {
  it("back off exponentially up to the cap, with jitter", () => {
    const settings = { retryBaseMs: 1000, retryMaxMs: 60_000 };
    expect([1, 2, 3, 4, 10].map((attempt) => backoffMs(attempt, settings, () => 0.5))).toEqual([1000, 2000, 4000, 8000, 60_000]);
    expect(backoffMs(1, settings, () => 0)).toBe(800);
    expect(backoffMs(1, settings, () => 1)).toBe(1200);
  });

  it("describe Slack's errors without the token", () => {
    expect(slackFailure({ code: "slack_webapi_platform_error", data: { error: "channel_not_found" } })).toEqual({
      ok: false,
      error: "slack: channel_not_found",
    });
    expect(slackFailure({ code: "slack_webapi_rate_limited_error", retryAfter: 7 })).toEqual({
      ok: false,
      error: "slack: rate limited",
      retryAfterMs: 7000,
    });
  });
});

import { describe, expect, it } from "vitest";
import { accessEndsBy, type AccessEndFacts } from "../../src/grants/access-end.js";

const EXPIRES = new Date("2026-11-25T14:00:00Z");
const ENDED = new Date("2026-11-25T13:10:00Z");
const facts = (overrides: Partial<AccessEndFacts>): AccessEndFacts => ({
  status: "active",
  expires_at: EXPIRES,
  ended_at: null,
  active_at: new Date("2026-11-25T12:00:00Z"),
  create_requested_at: new Date("2026-11-25T11:59:59Z"),
  session_duration_seconds: 8 * 3600,
  ...overrides,
});

describe("accessEndsBy: the assignment's end plus the session duration", () => {
  it.each([
    ["an active grant: its planned end", facts({}), "2026-11-25T22:00:00.000Z"],
    ["a grant being provisioned", facts({ status: "provisioning", active_at: null }), "2026-11-25T22:00:00.000Z"],
    ["a revoked grant: when the removal was confirmed", facts({ status: "revoked", ended_at: ENDED }), "2026-11-25T21:10:00.000Z"],
    [
      "a grant given up after a create may have been sent, then removed",
      facts({ status: "revoked", ended_at: ENDED, active_at: null }),
      "2026-11-25T21:10:00.000Z",
    ],
  ])("%s", (_name, grant, expected) => {
    expect(accessEndsBy(grant)?.toISOString()).toBe(expected);
  });

  it.each([
    ["the session duration was never read", facts({ session_duration_seconds: null })],
    ["the removal is not confirmed yet", facts({ status: "revoking" })],
    ["another grant kept the assignment", facts({ status: "expired", ended_at: ENDED })],
    ["no assignment ever existed", facts({ status: "revoked", ended_at: ENDED, active_at: null, create_requested_at: null })],
    ["AWS refused the create", facts({ status: "failed", active_at: null })],
  ])("is unknown (null) when %s", (_name, grant) => {
    expect(accessEndsBy(grant)).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import {
  activate,
  assertTransition,
  AWS,
  beginRemoval,
  canTransition,
  coveredEnd,
  createFailed,
  endEarly,
  giveUp,
  GRANT_STATUSES,
  isLive,
  isTerminal,
  JITSUDO,
  NOW,
  removed,
  repairDrift,
  start,
  windowEndedBeforeStart,
  type GrantStatus,
  type Move,
} from "../../src/grants/lifecycle.js";

// Every legal move; every other pair must be refused.
const ALLOWED: ReadonlyArray<[GrantStatus, GrantStatus]> = [
  ["approved", "provisioning"],
  ["approved", "revoked"],
  ["approved", "failed"],
  ["provisioning", "active"],
  ["provisioning", "failed"],
  ["provisioning", "revoking"],
  ["active", "revoking"],
  ["active", "expired"],
  ["active", "provisioning"],
  ["revoking", "revoked"],
  ["revoking", "expired"],
  ["revoking", "failed"],
];

describe("grant state machine", () => {
  const pairs = GRANT_STATUSES.flatMap((from) => GRANT_STATUSES.map((to) => [from, to] as [GrantStatus, GrantStatus]));

  it.each(pairs)("%s → %s is allowed only if listed", (from, to) => {
    const allowed = ALLOWED.some(([a, b]) => a === from && b === to);
    expect(canTransition(from, to)).toBe(allowed);
    if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(`a grant cannot go from ${from} to ${to}`);
  });

  it("says what is possible instead", () => {
    expect(() => assertTransition("active", "approved")).toThrow(
      "a grant cannot go from active to approved (from active: revoking, expired, provisioning)",
    );
    expect(() => assertTransition("revoked", "active")).toThrow("a grant cannot go from revoked to active (revoked is final)");
  });

  it("knows which statuses hold (or may hold) an assignment and which are final", () => {
    expect(GRANT_STATUSES.filter(isLive)).toEqual(["provisioning", "active", "revoking"]);
    expect(GRANT_STATUSES.filter(isTerminal)).toEqual(["revoked", "failed", "rejected", "expired"]);
  });
});

describe("the lifecycle's moves", () => {
  const active = { status: "active" as const, failure_reason: null, active_at: new Date("2026-12-01T10:00:00Z") };
  const givenUp = { status: "revoking" as const, failure_reason: "the window ended", active_at: null };
  const covering = { id: "42", pr_number: 7, expires_at: new Date("2026-12-01T12:00:00Z") };

  it("every move is one the state machine allows, from the statuses it is made from", () => {
    const moves: [GrantStatus[], Move][] = [
      [["approved"], start({ instanceArn: "arn:aws:sso:::instance/ssoins-1", region: "eu-west-1" })],
      [["provisioning"], activate("req-1", new Date())],
      [["provisioning"], createFailed("req-1", "quota")],
      [["approved"], windowEndedBeforeStart(new Date())],
      [["provisioning"], giveUp("refused", true)],
      [["provisioning"], giveUp("refused", false)],
      [["active"], repairDrift()],
      [["active"], beginRemoval("expired")],
      [["active", "revoking"], coveredEnd(active, "expired", covering)],
      [["revoking"], coveredEnd(givenUp, "expired", covering)],
      [["revoking"], removed(active, { actor: AWS, reason: "deleted" })],
      [["revoking"], removed(givenUp, { actor: AWS, reason: "deleted" })],
      [["approved"], endEarly({ status: "approved" }, { type: "revoke_requested", actor: "alice", reason: "r" }, "command-reply")],
      [
        ["provisioning", "active"],
        endEarly({ status: "active" }, { type: "revoke_requested", actor: "alice", reason: "r" }, "merge-comment"),
      ],
    ];
    for (const [froms, move] of moves) for (const from of froms) expect(canTransition(from, move.to), `${from} → ${move.to}`).toBe(true);
  });

  it("a grant that expires while another grant needs the same assignment ends expired, and says who keeps it until when", () => {
    const move = coveredEnd(active, "expired at 2026-12-01T11:00:00.000Z", covering);
    expect(move.to).toBe("expired");
    expect(move.event).toEqual({
      type: "expired",
      actor: JITSUDO,
      reason: "expired at 2026-12-01T11:00:00.000Z; the assignment stays for grant 42 (PR #7) until 2026-12-01T12:00:00.000Z",
    });
    expect(move.changes).toMatchObject({ ended_at: NOW, operation: null, lease_owner: null });
    expect(move.report).toBe("pull-request");
  });

  it("a grant given up while provisioning never ends revoked or expired: it never had access of its own", () => {
    expect(coveredEnd(givenUp, "expired", covering)).toMatchObject({ to: "failed", changes: { last_error: "the window ended" } });
    expect(removed(givenUp, { actor: AWS, reason: "deleted" })).toMatchObject({
      to: "failed",
      event: { type: "failed", reason: "the window ended; nothing is left assigned (deleted)" },
    });
    expect(removed(active, { actor: AWS, reason: "deleted" })).toMatchObject({ to: "revoked", changes: { last_error: null } });
  });

  it("giving up removes first whatever a create may have left, and ends at once only if none was sent", () => {
    expect(giveUp("refused", true)).toMatchObject({ to: "revoking", changes: { failure_reason: "refused", lease_owner: null } });
    expect(giveUp("refused", false)).toMatchObject({ to: "failed", changes: { failure_reason: "refused", ended_at: NOW } });
  });

  it("ending early revokes at once what never started, and sends the rest to be removed; both wake the workers", () => {
    const event = { type: "superseded" as const, actor: "alice", reason: "edited" };
    expect(endEarly({ status: "approved" }, event, "merge-comment", "9")).toMatchObject({
      to: "revoked",
      changes: { superseded_by: "9", ended_at: NOW },
      wakesWorkers: true,
    });
    expect(endEarly({ status: "active" }, event, "merge-comment")).toMatchObject({
      to: "revoking",
      changes: { next_attempt_at: null, attempts: 0 },
      wakesWorkers: true,
    });
  });
});

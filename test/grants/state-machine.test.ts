import { describe, expect, it } from "vitest";
import { assertTransition, canTransition, GRANT_STATUSES, isLive, isTerminal, type GrantStatus } from "../../src/grants/state-machine.js";

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

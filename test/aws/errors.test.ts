import { describe, expect, it } from "vitest";
import { rawAwsError, refusedByAws } from "../../src/aws/errors.js";

const sdkError = (httpStatusCode: number | undefined, attempts: number | undefined) =>
  Object.assign(new Error("x"), { name: "ConflictException", $metadata: { httpStatusCode, attempts } });

describe("refusedByAws", () => {
  it("is sure AWS did nothing only when the call's one attempt was answered with a 4xx", () => {
    expect(refusedByAws(sdkError(400, 1))).toBe(true);
    expect(refusedByAws(sdkError(403, 1))).toBe(true);
  });

  it("is not sure after a retry: the first attempt may have started the create the 4xx is about", () => {
    expect(refusedByAws(sdkError(400, 2))).toBe(false);
    expect(refusedByAws(sdkError(400, undefined))).toBe(false);
  });

  it("is not sure after a 5xx or no answer", () => {
    expect(refusedByAws(sdkError(500, 1))).toBe(false);
    expect(refusedByAws(sdkError(undefined, 1))).toBe(false);
    expect(refusedByAws(new Error("socket hang up"))).toBe(false);
  });
});

describe("rawAwsError", () => {
  it("logs an AWS error as every other err is logged (type, message, stack) with AWS's request id, and not the raw HTTP exchange", () => {
    const error = Object.assign(new Error("Too many requests"), {
      name: "ThrottlingException",
      $metadata: { requestId: "req-1", httpStatusCode: 400 },
      $response: { headers: { authorization: "AWS4-HMAC-SHA256 Credential=AKIA…" } },
    });
    const logged = rawAwsError(error);
    expect(logged).toMatchObject({ type: "ThrottlingException", message: "Too many requests", requestId: "req-1" });
    expect(logged.stack).toContain("errors.test.ts");
    expect(JSON.stringify(logged)).not.toContain("AWS4-HMAC");
  });
});

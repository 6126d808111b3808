import { describe, expect, it } from "vitest";
import { refusedByAws } from "../../src/aws/errors.js";

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

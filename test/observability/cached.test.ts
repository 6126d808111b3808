import { describe, expect, it } from "vitest";
import { cachedFor } from "../../src/observability/cached.js";

describe("cachedFor", () => {
  it("computes once per period for every caller, failures included", async () => {
    let time = 0;
    let runs = 0;
    let fail = false;
    const value = cachedFor(
      1000,
      () => {
        runs += 1;
        return fail ? Promise.reject(new Error("database down")) : Promise.resolve(runs);
      },
      () => time,
    );
    expect(await Promise.all([value(), value(), value()])).toEqual([1, 1, 1]);
    time = 999;
    expect(await value()).toBe(1);
    time = 1000;
    fail = true;
    await expect(value()).rejects.toThrow("database down");
    await expect(value()).rejects.toThrow("database down");
    expect(runs).toBe(2);
    time = 2000;
    fail = false;
    expect(await value()).toBe(3);
  });
});

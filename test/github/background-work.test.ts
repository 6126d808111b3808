import { describe, expect, it } from "vitest";
import { BackgroundWork } from "../../src/github/background-work.js";

const quietLog = () => {
  const warnings: unknown[][] = [];
  const log = {
    warn: (...args: unknown[]) => warnings.push(args),
    info: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    child: () => log,
  };
  return { log: log as never, warnings };
};

describe("BackgroundWork", () => {
  it("waits for work started, and work that work started, and logs failures instead of throwing", async () => {
    const { log, warnings } = quietLog();
    const background = new BackgroundWork(log);
    const done: string[] = [];
    background.run("first", {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      done.push("first");
      background.run("second", {}, () => Promise.resolve(done.push("second")));
    });
    background.run("failing", { pr: 7 }, () => Promise.reject(new Error("GitHub said no")));
    await background.flush();
    expect(done).toEqual(["first", "second"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toEqual([{ pr: 7, err: new Error("GitHub said no") }, "failing failed"]);
  });

  it("stops waiting after the timeout and says how much was left unsent", async () => {
    const { log, warnings } = quietLog();
    const background = new BackgroundWork(log);
    background.run("stuck", {}, () => new Promise(() => undefined));
    await background.flush(30);
    expect(warnings).toEqual([[{ unsent: 1 }, "stopped waiting: comments not yet sent"]]);
  });
});

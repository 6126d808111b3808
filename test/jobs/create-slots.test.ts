import { describe, expect, it, vi } from "vitest";
import { CreateSlotLine } from "../../src/jobs/create-slots.js";

/** A fake database with `free` slots: answers in order, records every ask. */
function slotsOf(free: { n: number }) {
  const asks: string[][] = [];
  const line = new CreateSlotLine<string, "go" | "no-slot">(
    (requests) => {
      asks.push([...requests]);
      return Promise.resolve(
        requests.map(() => {
          if (free.n === 0) return "no-slot";
          free.n -= 1;
          return "go";
        }),
      );
    },
    (answer) => answer === "no-slot",
    3,
  );
  return { line, asks };
}

const LINE = { instanceArn: "arn:aws:sso:::instance/ssoins-aaaaaaaaaaaaaaaa", tenant: "1" };
const never = () => false;

describe("CreateSlotLine", () => {
  it("asks for everyone waiting in one go when slots come free, in line order", async () => {
    const free = { n: 0 };
    const { line, asks } = slotsOf(free);
    const answers = ["a", "b", "c"].map((id) => line.take(LINE, id, never));
    await new Promise((resolve) => setTimeout(resolve, 20));
    // a asked alone; b and c joined a line with no slot, so they wait for one without asking.
    expect(asks).toEqual([["a"]]);
    free.n = 2;
    void line.freed(LINE.instanceArn);
    await expect(answers[0]).resolves.toBe("go");
    await expect(answers[1]).resolves.toBe("go");
    expect(asks.at(-1)).toEqual(["a", "b", "c"]);
    free.n = 1;
    void line.freed();
    await expect(answers[2]).resolves.toBe("go");
    expect(asks.at(-1)).toEqual(["c"]);
  });

  it("asks again at once when a slot came free while it was asking", async () => {
    // On a fake clock: the line's 250 ms sleep is what the test tells apart, however busy the machine.
    vi.useFakeTimers();
    try {
      const free = { n: 0 };
      let release: () => void = () => undefined;
      const asks: number[] = [];
      const line = new CreateSlotLine<string, "go" | "no-slot">(
        async (requests) => {
          asks.push(Date.now());
          if (asks.length === 1) await new Promise<void>((resolve) => (release = resolve));
          return requests.map(() => (free.n-- > 0 ? "go" : "no-slot"));
        },
        (answer) => answer === "no-slot",
        10,
      );
      const started = Date.now();
      let answer: string | undefined;
      void line.take(LINE, "a", never).then((given) => (answer = given));
      await vi.advanceTimersByTimeAsync(5);
      void line.freed(); // while the first ask is out
      release();
      await vi.advanceTimersByTimeAsync(5);
      // Asked again at once, not after the line's 250 ms sleep.
      expect(asks.map((at) => at - started)).toEqual([0, 5]);
      free.n = 1;
      void line.freed();
      await vi.advanceTimersByTimeAsync(0);
      expect(answer).toBe("go");
    } finally {
      vi.useRealTimers();
    }
  });

  it("tells each request once, before its turn, that it is within two batches of the head", async () => {
    const free = { n: 0 };
    const events: string[] = [];
    const line = new CreateSlotLine<string, "go" | "no-slot">(
      (requests) => {
        events.push(`ask ${requests.join("")}`);
        return Promise.resolve(requests.map(() => (free.n-- > 0 ? "go" : "no-slot")));
      },
      (answer) => answer === "no-slot",
      2,
      (request) => events.push(`near ${request}`),
    );
    const answers = ["a", "b", "c", "d", "e", "f"].map((id) => line.take(LINE, id, never));
    await new Promise((resolve) => setTimeout(resolve, 20));
    free.n = 6;
    void line.freed();
    expect(await Promise.all(answers)).toEqual(Array(6).fill("go"));
    const nearOf = (id: string) => events.indexOf(`near ${id}`);
    // a joined an empty line and asked alone; then the line's head advanced two at a time.
    expect(events.filter((event) => event.startsWith("near"))).toEqual(["near a", "near b", "near c", "near d", "near e", "near f"]);
    for (const id of ["c", "d", "e", "f"]) {
      const ask = events.findIndex((event) => event.startsWith("ask") && event.includes(id));
      // Told while others were ahead of it: at least one ask before its own.
      expect(nearOf(id)).toBeLessThan(ask);
      expect(events.slice(nearOf(id), ask).some((event) => event.startsWith("ask"))).toBe(true);
    }
  });

  it("lets a stopped request go, and fails everyone asked when the database fails", async () => {
    let stopped = false;
    const failing = new CreateSlotLine<string, "go" | "no-slot">(
      () => Promise.reject(new Error("connection lost")),
      () => false,
      10,
    );
    await expect(failing.take(LINE, "a", never)).rejects.toThrow("connection lost");
    const { line } = slotsOf({ n: 0 });
    const waiting = line.take(LINE, "a", () => stopped);
    stopped = true;
    void line.freed();
    await expect(waiting).resolves.toBe("stopped");
  });

  it("tells whoever freed slots which requests the next ask let go, once that ask is answered", async () => {
    const free = { n: 0 };
    const { line, asks } = slotsOf(free);
    const answers = ["a", "b", "c", "d"].map((id) => line.take(LINE, id, never));
    await new Promise((resolve) => setTimeout(resolve, 20));
    free.n = 2;
    const started = line.freed(LINE.instanceArn);
    // Not before the ask: the requests it names have their answers by then.
    expect(await started).toEqual(["a", "b"]);
    await expect(answers[0]).resolves.toBe("go");
    expect(asks.at(-1)).toEqual(["a", "b", "c"]);
    // No line for another instance: nothing started there.
    expect(await line.freed("arn:aws:sso:::instance/ssoins-bbbbbbbbbbbbbbbb")).toEqual([]);
    free.n = 2;
    expect(await line.freed()).toEqual(["c", "d"]);
    // The line is empty and gone: freeing again starts nothing, at once.
    expect(await line.freed()).toEqual([]);
  });
});

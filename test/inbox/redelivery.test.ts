/**
 * GitHub never redelivers a failed webhook delivery on its own; jitsudo's redelivery job asks it
 * to, through the app's webhook deliveries API (modelled by the local GitHub), and the inbox takes
 * the redelivery (same GUID) once.
 */
import { describe, expect, it } from "vitest";
import { redeliverFailedWebhooks } from "../../src/jobs/redeliver.js";
import { freePort } from "../../src/net.js";
import { startHarness, WEBHOOK_SECRET } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { seed } from "../support/merge-world.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe("redelivering failed webhook deliveries", () => {
  it("asks GitHub to deliver again what never reached jitsudo, once, and the merge is judged", async () => {
    const { db } = await freshDatabase();
    const harness = await startHarness({ db });
    try {
      const world = seed(harness.github);
      const { hook } = harness.github;
      // jitsudo is down: GitHub cannot connect, records the failure, and leaves it there.
      hook.configure(`http://127.0.0.1:${await freePort()}`, WEBHOOK_SECRET);
      const lost = await hook.send({ name: "pull_request", payload: world.closed });
      expect(lost.status).toBe("failed to connect to host");
      // jitsudo is back; later deliveries arrive.
      hook.configure(harness.url, WEBHOOK_SECRET);
      const delivered = await hook.send({ name: "push", payload: world.push });
      expect(delivered.status).toBe("OK");
      await harness.settle();
      expect(await db("merge_verdicts").count({ n: "*" })).toEqual([{ n: "0" }]);

      const options = { db, now: () => harness.github.clock.now(), log: silent };
      expect(await redeliverFailedWebhooks(harness.probot, options)).toEqual({ looked: 2, redelivered: 1 });
      await hook.settled();
      await harness.settle();
      expect(await db("merge_verdicts").pluck("verdict")).toEqual(["approved"]);
      const redelivery = hook.deliveries.at(-1)!;
      expect([redelivery.guid, redelivery.redelivery, redelivery.status]).toEqual([lost.guid, true, "OK"]);

      // The next run finds the GUID answered: nothing more to redeliver.
      expect((await redeliverFailedWebhooks(harness.probot, options)).redelivered).toBe(0);
      expect(await db("webhook_inbox").where({ delivery_id: lost.guid }).count({ n: "*" })).toEqual([{ n: "1" }]);
    } finally {
      await harness.stop();
    }
  });
});

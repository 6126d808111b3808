/**
 * The database gauges every role exports, against real PostgreSQL. The one an on-call alert hangs
 * on, jitsudo_grant_oldest_seconds, must measure how long a grant has been stuck: a revoke that
 * keeps failing writes a note at every retry (at most a minute apart), and if a note restarted its
 * clock the "stuck in revoking" alert could never fire.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/knex.js";
import { applyMove, noteEvent, type GrantRow } from "../../src/grants/grant-repository.js";
import { activate, beginRemoval, JITSUDO, start } from "../../src/grants/lifecycle.js";
import { registerDatabaseGauges } from "../../src/observability/database-gauges.js";
import { Metrics } from "../../src/observability/metrics.js";
import { approveGrant, startAwsWorld, type AwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

describe("the database gauges", () => {
  let db: Knex;
  let world: AwsWorld;
  beforeAll(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld();
  });
  afterAll(async () => {
    await world.stop();
  });

  const scrape = async () => {
    const metrics = new Metrics();
    registerDatabaseGauges(metrics, db);
    return metrics.render();
  };
  const oldest = (text: string, status: string) =>
    Number(new RegExp(`jitsudo_grant_oldest_seconds\\{status="${status}"\\} ([\\d.e+-]+)`).exec(text)?.[1]);

  it("times a grant stuck in revoking from when it entered, not from its last failed retry", async () => {
    const id = await approveGrant(db, world);
    const read = async () => (await db("grants").where({ id }).first()) as GrantRow;
    await applyMove(db, await read(), start());
    await applyMove(db, await read(), activate("request-1", new Date()));
    await applyMove(db, await read(), beginRemoval("its access window ended"));
    await sleep(1_200);
    // A failed retry, as revoke.ts notes it: from revoking to revoking.
    await noteEvent(db, await read(), { type: "failed", actor: JITSUDO, reason: "removal failed; retrying" });

    const text = await scrape();
    expect(oldest(text, "revoking")).toBeGreaterThanOrEqual(1.1);
    expect(oldest(text, "provisioning")).toBe(0);
    expect(text).toMatch(/jitsudo_grants\{status="revoking"\} 1/);
  });

  it("leaves a gauge empty, not the scrape broken, when the database cannot answer", async () => {
    const metrics = new Metrics();
    // A server that is not there: every query fails at once.
    const unreachable = createDb({ url: "postgres://root@127.0.0.1:9/none", pool: { min: 0, max: 1 } });
    registerDatabaseGauges(metrics, unreachable);
    const text = await metrics.render();
    expect(text).toContain("# TYPE jitsudo_grants gauge");
    expect(text).not.toMatch(/^jitsudo_grants\{/m);
    expect(text).toContain("jitsudo_revoke_failures_total 0");
    await unreachable.destroy();
  });
});

/**
 * Crash safety: a real worker process (`jitsudo worker`, the AWS SDK configured only through
 * AWS_ENDPOINT_URL as in production) is killed with SIGKILL at random points while it provisions
 * and revokes 100 grants, and started again each time. At the end every grant is in its right
 * final state and the local Identity Center holds no assignment: judged by the simulator.
 *
 * The grants start over 75 s: 100 grants cost about 500 Identity Center calls, and jitsudo
 * keeps to AWS's 20 requests per second even against the simulator, with the worker down after
 * every kill (and every new process resolving user names afresh). That is a third of what the rate
 * allows over the run, so a worker that is up only half the time still has room; with 200 grants
 * (two thirds), two test suites at once on 2 cores left too little, and a third of the grants
 * waited out their windows. A grant whose whole window passes while it waits for capacity ends
 * `failed` without ever being assigned, which is also a right final state.
 *
 * Nothing here may depend on the machine's speed. The grants' schedule begins only once the first
 * worker works (on a busy 2-core machine, writing 200 grants and starting a worker took 25 s, and
 * the first third of the windows had passed before anything could act). Every duration is scaled
 * to how long that first worker took to start: on that machine a start took 5 to 6 s, so killing
 * each worker 2 to 5 s after it started left it up 30% of the time, and 60% of the grants failed.
 */
import type { Knex } from "knex";
import { rowsAs } from "../../src/db/knex.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { approveGrant, startAwsWorld, type AwsWorld } from "../support/aws-world.js";
import { Prng } from "../../src/sandbox/prng.js";
import { freshDatabase } from "../support/db.js";
import { exited, started, startWorkerProcess } from "../support/worker-process.js";
import { WORK_CHANNEL } from "../../src/grants/grant-repository.js";

const GRANTS = 100;
const USERS = 5;
const ACCOUNTS = Array.from({ length: GRANTS / USERS }, (_, index) => `5000000000${String(index).padStart(2, "0")}`);
/** Grants start over this window; each lasts 20 to 30 s. */
const START_WINDOW_MS = 75_000;

describe("a worker killed at random points", () => {
  let db: Knex;
  let url: string;
  let schema: string;
  let world: AwsWorld;
  beforeAll(async () => {
    ({ db, url, schema } = await freshDatabase());
    world = await startAwsWorld({ provisioningDelayMs: 300, deletionDelayMs: 300, requestsPerSecond: Infinity });
  });
  afterAll(async () => {
    await world.stop();
  });

  const startWorker = async () => {
    const child = startWorkerProcess({ databaseUrl: url, schema, awsEndpoint: world.url, accessKeyId: "AKIDCHAOSTEST", watchStart: true });
    await started(child);
    return child;
  };

  it("ends every grant right, however often the worker dies", { timeout: 300_000 }, async () => {
    // Seeded, so a failing run can be replayed.
    const prng = new Prng(20261125);
    const random = () => prng.next();
    for (const [index, id] of ACCOUNTS.entries()) world.ic.addAccount({ id, name: `chaos-${index}` });
    for (let user = 0; user < USERS; user++) world.ic.addUser("d-aaaaaaaaaa", { userName: `chaos-${user}@example.com` });
    // Written an hour ahead, so nothing is due while the grants are written and the first worker
    // starts (tens of seconds on a busy machine); the schedule is moved to now once it works.
    const written = Date.now() + 3_600_000;
    for (let index = 0; index < GRANTS; index++) {
      // 5 users × 20 accounts: every grant has an assignment of its own.
      const principal = `chaos-${index % USERS}@example.com`;
      const accountRef = ACCOUNTS[Math.floor(index / USERS)]!;
      const startsAt = new Date(written + Math.floor(random() * START_WINDOW_MS));
      const expiresAt = new Date(startsAt.getTime() + 20_000 + Math.floor(random() * 10_000));
      await approveGrant(db, world, { principal, accountRef, startsAt, expiresAt, prNumber: 1000 + index });
    }

    let kills = 0;
    const spawned = Date.now();
    let child = await startWorker();
    // How long this machine, as busy as it is now, takes to start a worker (0.8 s quiet; 5 to 6 s
    // beside two other test suites on 2 cores). Each worker lives 2 to 5 s plus that long, so it is
    // up at least half the time on any machine, and each window is stretched by twice that long.
    const startupMs = Date.now() - spawned;
    const start = Date.now() + 1_000;
    await startScheduleAt(db, written, start, 2 * startupMs);
    const lastExpiry = start + START_WINDOW_MS + 30_000 + 2 * startupMs;
    // Kill and restart until every grant has started and ended; the last worker then finishes up.
    while (Date.now() < lastExpiry) {
      await new Promise((resolve) => setTimeout(resolve, startupMs + 2_000 + random() * 3_000));
      child.kill("SIGKILL");
      kills += 1;
      await exited(child);
      child = await startWorker();
    }
    const deadline = Date.now() + 60_000;
    let open: GrantRow[] = [];
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      open = (await db("grants").whereNotIn("status", ["revoked", "expired", "failed"])) as GrantRow[];
    } while (open.length > 0 && Date.now() < deadline);
    child.kill("SIGTERM");
    await exited(child);

    expect(open.map((grant) => [grant.id, grant.status, grant.last_error])).toEqual([]);
    expect(world.ic.assignments()).toEqual([]);

    // Each grant went active exactly once and was revoked exactly once; or, never active, it failed.
    const events = await rowsAs<{ grant_id: string; type: string }[]>(
      db("grant_events").whereIn("type", ["active", "revoked", "failed", "expired"]).orderBy("id").select("grant_id", "type"),
    );
    const history = new Map<string, string[]>();
    for (const event of events) history.set(event.grant_id, [...(history.get(event.grant_id) ?? []), event.type]);
    const grants = await rowsAs<{ id: string; status: string }[]>(db("grants").select("id", "status"));
    const wrong = grants.filter((grant) => {
      const story = (history.get(grant.id) ?? []).join(",");
      // A failure is said when provisioning gives up, and again when the removal it needs is confirmed.
      return grant.status === "revoked" ? story !== "active,revoked" : !(grant.status === "failed" && /^failed(,failed)?$/.test(story));
    });
    expect(wrong.map((grant) => [grant.id, grant.status, history.get(grant.id)])).toEqual([]);
    const revoked = grants.filter((grant) => grant.status === "revoked").length;
    expect(revoked).toBeGreaterThan(GRANTS * 0.9);
    expect(kills).toBeGreaterThanOrEqual(5);
  });
});

/**
 * Moves every grant's window by the same amount, so the schedule written at `from` begins at `to`,
 * makes each window `stretchMs` longer, and wakes the workers.
 */
async function startScheduleAt(db: Knex, from: number, to: number, stretchMs: number): Promise<void> {
  const shift = `${to - from} milliseconds`;
  const end = `${to - from + stretchMs} milliseconds`;
  await db.raw("update grants set starts_at = starts_at + ?::interval, expires_at = expires_at + ?::interval", [shift, end]);
  await db.raw("select pg_notify(?, '')", [WORK_CHANNEL]);
}

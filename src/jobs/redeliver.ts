/**
 * Failed webhook deliveries, redelivered the way GitHub documents it ("Handling failed webhook
 * deliveries"): GitHub never retries a delivery on its own, so a job lists the app's recent
 * deliveries (GET /app/hook/deliveries, newest first), finds the GUIDs whose every attempt failed
 * (jitsudo down, a deploy, a timeout) and asks GitHub to deliver each again (POST
 * /app/hook/deliveries/{id}/attempts). A redelivery keeps its GUID, so the inbox takes it once.
 *
 * It reads back to where the last run stopped (less an overlap for GitHub's clock), never further
 * than GitHub keeps deliveries redeliverable, and skips what the inbox already holds (a delivery
 * that reached jitsudo but was answered too late for GitHub). The catch-up scan stays the last net.
 */
import type { Knex } from "knex";
import type { Probot } from "probot";
import { HANDLED_EVENTS } from "../inbox/events.js";
import { deliveriesHeld, redeliveryCheckedUntil, saveRedeliveryCheckedUntil } from "../inbox/inbox-store.js";
import type { Log } from "../observability/logger.js";

/** GitHub redelivers deliveries of the last three days (github.com; Enterprise Server keeps seven). */
const REDELIVERABLE_MS = 3 * 86_400_000;
/** Read a little before the last run: GitHub's clock and ours differ. */
const OVERLAP_MS = 5 * 60_000;
/** The first run looks back this far. */
const FIRST_LOOK_BACK_MS = 60 * 60_000;
const MAX_PAGES = 20;
const MAX_REDELIVERIES = 100;
const HANDLED_NAMES = new Set(HANDLED_EVENTS.map((event) => event.split(".")[0]!));

export interface RedeliveryOptions {
  db: Knex;
  now: () => Date;
  log: Log;
}

interface DeliveryItem {
  id: number;
  guid: string;
  delivered_at: string;
  status_code: number;
  event: string;
}

export async function redeliverFailedWebhooks(
  probot: Probot,
  options: RedeliveryOptions,
): Promise<{ looked: number; redelivered: number }> {
  const { db, log } = options;
  const octokit = await probot.auth();
  const { data: app } = await octokit.rest.apps.getAuthenticated();
  const appKey = String(app?.id ?? "app");
  const startedAt = options.now();
  const checkedUntil = await redeliveryCheckedUntil(db, appKey);
  const since = Math.max(
    (checkedUntil?.getTime() ?? startedAt.getTime() - FIRST_LOOK_BACK_MS) - OVERLAP_MS,
    startedAt.getTime() - REDELIVERABLE_MS,
  );

  const { attempts, complete } = await attemptsSince(octokit, since);
  const failed = lostDeliveries(attempts);
  const held = await deliveriesHeld(
    db,
    failed.map(([guid]) => guid),
  );

  const redelivered = await redeliver(octokit, failed, held, log);
  // Only a complete look moves the mark: a run cut short reads the rest next time.
  if (complete && redelivered < MAX_REDELIVERIES) {
    await saveRedeliveryCheckedUntil(db, appKey, startedAt);
  }
  return { looked: attempts.length, redelivered };
}

type AppOctokit = Awaited<ReturnType<Probot["auth"]>>;

/** Every delivery attempt since `since`, newest first; complete unless the page limit cut the look short. */
async function attemptsSince(octokit: AppOctokit, since: number): Promise<{ attempts: DeliveryItem[]; complete: boolean }> {
  const attempts: DeliveryItem[] = [];
  let pages = 0;
  let complete = false;
  for await (const response of octokit.paginate.iterator("GET /app/hook/deliveries", { per_page: 100 })) {
    pages += 1;
    const items = response.data as DeliveryItem[];
    attempts.push(...items.filter((item) => Date.parse(item.delivered_at) >= since));
    if (items.length === 0 || items.some((item) => Date.parse(item.delivered_at) < since)) {
      complete = true;
      break;
    }
    if (pages >= MAX_PAGES) break;
  }
  if (pages < MAX_PAGES) complete = true;
  return { attempts, complete };
}

/** The GUIDs of handled events none of whose attempts succeeded, with their attempts. */
function lostDeliveries(attempts: DeliveryItem[]): [string, DeliveryItem[]][] {
  // A GUID is lost only if none of its attempts was answered 2xx.
  const byGuid = new Map<string, DeliveryItem[]>();
  for (const attempt of attempts) byGuid.set(attempt.guid, [...(byGuid.get(attempt.guid) ?? []), attempt]);
  return [...byGuid.entries()].filter(
    ([, tries]) => HANDLED_NAMES.has(tries[0]!.event) && tries.every((attempt) => attempt.status_code < 200 || attempt.status_code >= 300),
  );
}

/** Asks GitHub to deliver each lost delivery the inbox does not hold again, up to MAX_REDELIVERIES; returns how many it did. */
async function redeliver(octokit: AppOctokit, failed: [string, DeliveryItem[]][], held: Set<string>, log: Log): Promise<number> {
  let redelivered = 0;
  for (const [guid, tries] of failed) {
    if (held.has(guid) || redelivered >= MAX_REDELIVERIES) continue;
    const latest = tries.reduce((a, b) => (Date.parse(a.delivered_at) >= Date.parse(b.delivered_at) ? a : b));
    try {
      await octokit.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: latest.id });
      redelivered += 1;
      log.warn({ guid, event: latest.event, delivery: latest.id }, "webhook delivery had failed; asked GitHub to deliver it again");
    } catch (error) {
      log.error(
        { err: error, guid, delivery: latest.id },
        "GitHub refused to redeliver a failed webhook delivery; the catch-up scan is the last net",
      );
    }
  }
  return redelivered;
}

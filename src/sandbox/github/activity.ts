/**
 * The repository activity log behind `GET /repos/{owner}/{repo}/activity` ("Lists a detailed
 * history of changes to a repository, such as pushes, merges, force pushes, and branch changes").
 * Every branch update the model makes appends one entry with the tip before and after, so the
 * default branch's history of updates can be read back exactly, as GitHub records it.
 *
 * Listing follows the endpoint's description in GitHub's OpenAPI: newest first unless
 * `direction=asc`; filters `ref` (`main` or `refs/heads/main`), `actor`, `activity_type` and
 * `time_period`; `per_page` up to 100; and cursor paging, where `before`/`after` take a cursor "as
 * given in the Link header".
 */
import { Buffer } from "node:buffer";

export type ActivityType = "push" | "force_push" | "branch_creation" | "branch_deletion" | "pr_merge" | "merge_queue_merge";

export interface ActivityEntry {
  id: number;
  before: string;
  after: string;
  /** Always the full ref, `refs/heads/<branch>`. */
  ref: string;
  timestamp: Date;
  activityType: ActivityType;
  actor: string | null;
}

export interface ActivityQuery {
  direction?: string | null;
  perPage?: string | null;
  before?: string | null;
  after?: string | null;
  ref?: string | null;
  actor?: string | null;
  activityType?: string | null;
  timePeriod?: string | null;
}

export interface ActivityPage {
  entries: ActivityEntry[];
  /** Cursors for the Link header: `next` goes on (query `after`), `prev` goes back (query `before`). */
  next?: string;
  prev?: string;
}

const PERIOD_DAYS: Record<string, number> = { day: 1, week: 7, month: 30, quarter: 91, year: 365 };
const ACTIVITY_TYPES: readonly string[] = ["push", "force_push", "branch_creation", "branch_deletion", "pr_merge", "merge_queue_merge"];

export class ActivityLog {
  private readonly entries: ActivityEntry[] = [];
  /**
   * Entries recorded but not listed yet. GitHub does not document how soon an update appears in
   * the activity list after its webhook; tests use this to make the record lag behind.
   */
  private readonly withheld = new Set<number>();
  private withholding = false;

  constructor(private readonly nextId: () => number) {}

  record(entry: Omit<ActivityEntry, "id">): ActivityEntry {
    const recorded = { ...entry, id: this.nextId() };
    this.entries.push(recorded);
    if (this.withholding) this.withheld.add(recorded.id);
    return recorded;
  }

  /** From now on, new entries stay out of listings until `release()`: a record that lags behind. */
  withhold(): void {
    this.withholding = true;
  }

  /** Lists every entry withheld so far, and stops withholding. */
  release(): void {
    this.withholding = false;
    this.withheld.clear();
  }

  /** Everything recorded, oldest first. */
  all(): readonly ActivityEntry[] {
    return this.entries;
  }

  /** One page of a listing; throws ActivityQueryError for what GitHub answers with 422. */
  list(query: ActivityQuery, now: Date): ActivityPage {
    const perPage = Math.min(Number(query.perPage ?? 30), 100);
    if (!Number.isInteger(perPage) || perPage < 1) throw new ActivityQueryError("per_page must be a positive integer");
    const ordered = this.filtered(query, now);
    if (query.direction !== "asc") ordered.reverse();
    let start = 0;
    let end = ordered.length;
    if (query.after) start = ordered.findIndex((entry) => entry.id === decodeCursor(query.after!)) + 1;
    if (query.before) {
      end = ordered.findIndex((entry) => entry.id === decodeCursor(query.before!));
      start = Math.max(query.after ? start : 0, end - perPage);
    }
    const entries = ordered.slice(start, Math.min(end, start + perPage));
    const first = entries[0];
    const last = entries.at(-1);
    return {
      entries,
      ...(last && start + entries.length < ordered.length ? { next: encodeCursor(last.id) } : {}),
      ...(first && start > 0 ? { prev: encodeCursor(first.id) } : {}),
    };
  }

  private filtered(query: ActivityQuery, now: Date): ActivityEntry[] {
    if (query.direction && query.direction !== "asc" && query.direction !== "desc")
      throw new ActivityQueryError("direction must be asc or desc");
    if (query.activityType && !ACTIVITY_TYPES.includes(query.activityType))
      throw new ActivityQueryError(`unknown activity_type ${query.activityType}`);
    const days = query.timePeriod ? PERIOD_DAYS[query.timePeriod] : undefined;
    if (query.timePeriod && days === undefined) throw new ActivityQueryError(`unknown time_period ${query.timePeriod}`);
    // "The ref for a branch can be formatted either as refs/heads/BRANCH_NAME or BRANCH_NAME".
    const ref = query.ref ? (query.ref.startsWith("refs/") ? query.ref : `refs/heads/${query.ref}`) : undefined;
    const since = days === undefined ? undefined : now.getTime() - days * 86_400_000;
    return this.entries.filter(
      (entry) =>
        !this.withheld.has(entry.id) &&
        (!ref || entry.ref === ref) &&
        (!query.actor || entry.actor?.toLowerCase() === query.actor.toLowerCase()) &&
        (!query.activityType || entry.activityType === query.activityType) &&
        (since === undefined || entry.timestamp.getTime() >= since),
    );
  }
}

export class ActivityQueryError extends Error {}

function encodeCursor(id: number): string {
  return Buffer.from(`activity:${id}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^activity:(\d+)$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) throw new ActivityQueryError(`invalid cursor ${cursor}`);
  return Number(match[1]);
}

/**
 * Which webhook deliveries go into the inbox, and the order they must keep. Pure.
 *
 * Deliveries about one pull request (its opening and pushes, its merge, commands on it) are
 * processed one at a time in arrival order, on whichever replica: a synchronize after its opened,
 * a merge after the reviews and pushes before it, and never two sticky comments. Pushes to a
 * repository keep their order too (the tenant config they record). Nothing else needs an order.
 */
import { HANDLED_EVENTS, MERGE_FOUND } from "./events.js";

export interface InboxEntry {
  deliveryId: string;
  event: string;
  action?: string;
  installationId?: number;
  repositoryId?: number;
  orderingKey: string;
  payload: unknown;
}

interface PayloadShape {
  action?: unknown;
  installation?: { id?: unknown };
  repository?: { id?: unknown };
  pull_request?: { number?: unknown };
  issue?: { number?: unknown; pull_request?: unknown };
  check_run?: { pull_requests?: { number?: unknown }[]; head_sha?: unknown };
}

const HANDLED: ReadonlySet<string> = new Set<string>([...HANDLED_EVENTS, MERGE_FOUND]);

/** The inbox entry for a verified delivery, or undefined when jitsudo does not act on it. */
export function inboxEntryFor(delivery: { id: string; name: string; payload: unknown }): InboxEntry | undefined {
  const payload = (delivery.payload ?? {}) as PayloadShape;
  const action = typeof payload.action === "string" ? payload.action : undefined;
  if (!HANDLED.has(action ? `${delivery.name}.${action}` : delivery.name) && !HANDLED.has(delivery.name)) return undefined;
  const repositoryId = typeof payload.repository?.id === "number" ? payload.repository.id : undefined;
  const installationId = typeof payload.installation?.id === "number" ? payload.installation.id : undefined;
  if (repositoryId === undefined) return undefined;
  return {
    deliveryId: delivery.id,
    event: delivery.name,
    ...(action ? { action } : {}),
    ...(installationId !== undefined ? { installationId } : {}),
    repositoryId,
    orderingKey: orderingKey(delivery.name, payload, repositoryId),
    payload: delivery.payload,
  };
}

function orderingKey(name: string, payload: PayloadShape, repositoryId: number): string {
  const pr = (number: unknown) => `pr:${repositoryId}:${String(number)}`;
  // A review after the merge (a break-glass review) is ordered after the merge it reviews.
  if ((name === "pull_request" || name === "pull_request_review" || name === MERGE_FOUND) && payload.pull_request?.number !== undefined)
    return pr(payload.pull_request.number);
  if (name === "issue_comment" && payload.issue?.number !== undefined) return pr(payload.issue.number);
  if (name === "check_run") {
    const pulls = payload.check_run?.pull_requests ?? [];
    // One pull request: its own order. None (a fork) or several: the commit's.
    return pulls.length === 1 ? pr(pulls[0]!.number) : `checks:${repositoryId}:${String(payload.check_run?.head_sha)}`;
  }
  if (name === "push") return `push:${repositoryId}`;
  return `${name}:${repositoryId}`;
}

/**
 * A pull request whose requests passed their check and now wait for code-owner approval: what the
 * `request.waiting` notification says. Pure; PR validation calls it with its review.
 */
import { formatOwner } from "../approval/codeowners.js";
import type { PullRequestReview } from "../approval/pull-request-review.js";
import type { WaitingRequest } from "./events.js";

/**
 * The requests of a review that wait for approval, or none when the check did not pass (nothing
 * to approve yet) or the PR holds no request. Who may approve never includes the author.
 */
export function waitingRequestsOf(review: PullRequestReview): WaitingRequest[] {
  if (review.conclusion !== "success" || review.requests.length === 0 || !review.requests.every((request) => request.valid)) return [];
  const author = review.pr.authorLogin.toLowerCase();
  return review.requests.flatMap((request) => {
    const { parsed, decision } = request;
    if (!parsed || !decision?.allowed) return [];
    const approvers = request.owners.filter((owner) => !(owner.kind === "user" && owner.login.toLowerCase() === author)).map(formatOwner);
    return [
      {
        file: request.file,
        principal: decision.principal ?? parsed.request.principal ?? review.pr.authorLogin,
        account: parsed.request.account,
        permissionSet: parsed.request.permission_set,
        duration: parsed.request.duration,
        reason: parsed.request.reason,
        ...(parsed.request.ticket ? { ticket: parsed.request.ticket } : {}),
        approvers,
        approvalsRequired: decision.approvalsRequired,
      },
    ];
  });
}

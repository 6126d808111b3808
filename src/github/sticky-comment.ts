/**
 * One comment per pull request, written by jitsudo and updated in place for every state. It is
 * found by a hidden marker AND the app's own bot login: anyone can paste the marker into a comment,
 * nobody else can post as the app.
 */
import type { MergeVerdict } from "../approval/approval.js";
import type { OwnerGroup } from "../approval/owner-groups.js";
import { processLock } from "../db/locks.js";
import { formatOwner, type CodeownersOwner } from "../approval/codeowners.js";
import { formatDuration } from "../parsing/duration.js";
import { printable } from "../parsing/printable.js";
import { formatProblem } from "../parsing/problem.js";
import type { FileReview, PullRequestReview } from "../approval/pull-request-review.js";
import { accessWindow } from "../requests/validate-request.js";
import type { GitHubGateway } from "./gateway.js";
import type { IssueComment } from "./types.js";
import { code, COMMENT_LIMIT, fitted, shortSha, table, text, utc } from "./markdown.js";

export const STICKY_MARKER = "<!-- jitsudo:sticky -->";
const MAX_CONFIG_PROBLEMS = 20;

export function findStickyComment(comments: readonly IssueComment[], botLogin: string): IssueComment | undefined {
  return comments.find((comment) => comment.authorLogin === botLogin && comment.body.startsWith(STICKY_MARKER));
}

/**
 * One upsert at a time per pull request in this process: the merge verdict and the worker's
 * reports both write the sticky comment, and GitHub paces an app's comment creation seconds apart,
 * so two writers that each looked before the other's create landed would both create one.
 */
const stickyWriters = processLock();

/** Creates the sticky comment, or edits it when it exists; never a second one. Returns what it did. */
export function upsertStickyComment(
  gateway: GitHubGateway,
  issueNumber: number,
  body: string,
  options: { createIfMissing: boolean } = { createIfMissing: true },
): Promise<"created" | "updated" | "unchanged" | "skipped"> {
  return stickyWriters.run(`${gateway.owner}/${gateway.repo}#${issueNumber}`.toLowerCase(), () =>
    upsert(gateway, issueNumber, body, options),
  );
}

async function upsert(
  gateway: GitHubGateway,
  issueNumber: number,
  body: string,
  options: { createIfMissing: boolean },
): Promise<"created" | "updated" | "unchanged" | "skipped"> {
  const [comments, botLogin] = await Promise.all([gateway.listIssueComments(issueNumber), gateway.botLogin()]);
  const existing = findStickyComment(comments, botLogin);
  const full = fitted(
    `${STICKY_MARKER}\n${body}`,
    COMMENT_LIMIT,
    "… (cut at GitHub's 65,536-character limit for a comment; the check run and `npx jitsudo validate` list every problem)",
  );
  if (existing) {
    if (existing.body === full) return "unchanged";
    await gateway.updateIssueComment(existing.id, full);
    return "updated";
  }
  if (!options.createIfMissing) return "skipped";
  await gateway.createIssueComment(issueNumber, full);
  return "created";
}

export function renderReviewComment(review: PullRequestReview): string {
  if (!review.touchesRequests) {
    return `### jitsudo\n\nThis pull request no longer adds, changes or removes an access request (checked at ${code(shortSha(review.pr.headSha))}).`;
  }
  const status = review.conclusion === "success" ? ":white_check_mark: valid, waiting for code-owner approval" : ":x: needs changes";
  const out = [
    `### jitsudo: access request ${status}`,
    "",
    `Checked at ${code(shortSha(review.pr.headSha))} against the policy and code owners of ${code(review.defaultBranch)} at ${code(shortSha(review.pr.baseSha))}. The merge is the approval: access is granted only if the merged content was approved by code owners at the final commit.`,
  ];
  if (review.blockers.length > 0) {
    out.push("", "**Blocking the whole pull request**", "", ...review.blockers.map((blocker) => `- ${text(blocker.message)}`));
  }
  for (const request of review.requests) out.push("", ...renderRequest(request, review));
  for (const removal of review.removals) {
    out.push(
      "",
      `#### ${code(removal.path)} removed`,
      "",
      `Merging ends this request's live grant early. Can approve: ${owners(removal.owners, review.pr.authorLogin)}.`,
    );
  }
  if (review.configProblems.length > 0) {
    out.push(
      "",
      "**Problems in the base branch's policy**",
      "",
      ...review.configProblems.slice(0, MAX_CONFIG_PROBLEMS).map((problem) => `- ${text(formatProblem(problem))}`),
    );
    if (review.configProblems.length > MAX_CONFIG_PROBLEMS) out.push(`- … and ${review.configProblems.length - MAX_CONFIG_PROBLEMS} more`);
  }
  return out.join("\n");
}

/** The comment after a merge: what was granted and until when, or why nothing was. */
export function renderVerdictComment(
  verdict: MergeVerdict,
  merge: { mergeCommitSha: string; mergedBy?: string; defaultBranch: string },
): string {
  const judgedAt = verdict.baseSha
    ? ` Judged by the policy and code owners of ${code(merge.defaultBranch)} as it was just before the merge, at ${code(shortSha(verdict.baseSha))}.`
    : "";
  const merged = `Merged as ${code(shortSha(merge.mergeCommitSha))}${merge.mergedBy ? ` by @${merge.mergedBy}` : ""}.${judgedAt}`;
  if (!verdict.approved) {
    const reasons = [
      ...verdict.reasons,
      ...verdict.files.flatMap((file) => file.reasons.map((reason) => `${printable(file.path)}: ${reason}`)),
    ];
    const groups = verdict.files.flatMap((file) => {
      const required = file.approverSets[0]?.groups;
      return file.kind === "grant" && required ? [`- ${code(file.path)}: ${ownerGroupsLine(required)}`] : [];
    });
    return [
      "### jitsudo: merge not approved, nothing was granted :no_entry:",
      "",
      `${merged} jitsudo checks every merge itself and grants nothing unless every request in it was approved by its code owners at the final commit.`,
      "",
      ...reasons.map((reason) => `- ${text(reason)}`),
      ...(groups.length > 0 ? ["", "**Owner groups** (require_owners: an approving code owner from each team)", "", ...groups] : []),
      "",
      "To get this access, open a new pull request and have it approved.",
    ].join("\n");
  }
  const out = [...breakGlassBanner(verdict), "### jitsudo: access approved :white_check_mark:", "", merged];
  for (const file of verdict.files) {
    if (file.kind === "revoke") {
      out.push("", `#### ${code(file.path)} removed`, "", `Its live grant ends now (approved by ${mentions(file.approvers)}).`);
      continue;
    }
    const fields = file.review!.parsed!.request;
    const groups = file.approverSets[0]?.groups;
    out.push(
      "",
      `#### ${code(file.path)}`,
      "",
      table([
        ["Status", "approved: waiting to be provisioned"],
        ["Principal", code(file.review!.decision!.principal!)],
        ["Account", code(fields.account)],
        ["Permission set", code(fields.permission_set)],
        ["Access", `${utc(file.window!.startsAt)} to ${utc(file.window!.expiresAt)}`],
        [
          "Approved by",
          file.breakGlass
            ? `break-glass (@${text(file.breakGlass.team.slice(1))}), without code-owner approval${file.approvers.length > 0 ? `; code owners so far: ${mentions(file.approvers)}` : ""}`
            : mentions(file.approvers),
        ],
        ...(groups ? [["Owner groups", ownerGroupsLine(groups)] as [string, string]] : []),
      ]),
    );
  }
  return out.join("\n");
}

/**
 * Which `require_owners` teams have approved, by whom, and which are still needed. Teams in code
 * spans: a mention would notify each team on every pull request (and show a secret team's name
 * to whoever reads the repository as a link to it).
 */
export function ownerGroupsLine(groups: readonly OwnerGroup[]): string {
  return groups
    .map(({ team, approvers }) =>
      approvers.length > 0 ? `${code(team)}: approved by ${mentions(approvers)}` : `${code(team)}: **still needed**`,
    )
    .join("; ");
}

/**
 * Break-glass is loud: said first, above everything, and calling the request files' code owners,
 * who review it after the merge.
 */
function breakGlassBanner(verdict: MergeVerdict): string[] {
  const broken = verdict.files.filter((file) => file.breakGlass !== undefined);
  if (broken.length === 0) return [];
  const owners = [...new Set(broken.flatMap((file) => file.breakGlass!.owners))];
  const teams = [...new Set(broken.map((file) => file.breakGlass!.team))];
  const dueMs = Math.min(...broken.map((file) => file.breakGlass!.reviewWithinMs));
  const files = broken.map((file) => code(file.path)).join(", ");
  return [
    "## :rotating_light: BREAK-GLASS: access granted WITHOUT code-owner approval",
    "",
    `${files} ${broken.length === 1 ? "was" : "were"} granted by break-glass: the requester is an active member of ${teams.map((team) => `@${text(team.slice(1))}`).join(", ")}.`,
    `${owners.length > 0 ? mentions(owners.map((owner) => owner.slice(1))) : "Code owners"}: please review it within ${formatDuration(dueMs)}: approve this pull request, or comment \`/jitsudo ack\`. Until then it is listed as unreviewed, and you will be reminded.`,
    "",
  ];
}

function mentions(logins: readonly string[]): string {
  return logins.map((login) => `@${login}`).join(", ");
}

function renderRequest(request: FileReview, review: PullRequestReview): string[] {
  const heading = `#### ${request.valid ? ":white_check_mark:" : ":x:"} ${code(request.file)}`;
  const problems = request.problems.map(
    (problem) =>
      `- ${problem.severity === "warning" ? "warning: " : ""}line ${problem.line}, column ${problem.column}: ${text(problem.message)}`,
  );
  if (!request.parsed) return [heading, "", ...problems];

  const { request: fields, durationMs } = request.parsed;
  const rows: [string, string][] = [
    ["Requester", `@${review.pr.authorLogin}`],
    ["Principal", request.decision?.principal ? code(request.decision.principal) : "the author's Identity Center user"],
    ["Account", code(fields.account)],
    ["Permission set", code(fields.permission_set)],
    ["Duration", formatDuration(durationMs)],
    ["Window", windowText(request)],
    ["Reason", code(fields.reason)],
  ];
  if (fields.ticket) rows.push(["Ticket", code(fields.ticket)]);
  const rule = request.decision?.rule;
  if (rule) {
    rows.push([
      "Policy",
      `rules[${rule.index}] (line ${rule.line}): up to ${formatDuration(rule.maxDurationMs)}, ${rule.approvals} approval${rule.approvals === 1 ? "" : "s"}${rule.requireTicket ? ", ticket required" : ""}${rule.maxSessionDurationMs !== null ? `, permission sets with sessions of at most ${formatDuration(rule.maxSessionDurationMs)}` : ""}`,
    ]);
    rows.push(["Can approve", `${owners(request.owners, review.pr.authorLogin)} (${rule.approvals} needed)`]);
    if (rule.requireOwners.length > 0)
      rows.push([
        "Owner groups",
        `still needed: an approving code owner who is an active member of each of ${rule.requireOwners.map((team) => code(`@${team.org}/${team.slug}`)).join(", ")} (one person may stand for several)`,
      ]);
  } else {
    rows.push(["Policy", "no rule allows this request"]);
  }
  return [heading, "", table(rows), ...(problems.length ? ["", ...problems] : [])];
}

function windowText(request: FileReview): string {
  const parsed = request.parsed!;
  if (parsed.startsAt) {
    const { startsAt, expiresAt } = accessWindow(parsed, parsed.startsAt);
    return `${utc(startsAt)} to ${utc(expiresAt)} (or from the merge, if later)`;
  }
  return `from the merge until ${formatDuration(parsed.durationMs)} later`;
}

/** Code owners who could approve, never counting the author: self-approval is not approval. */
function owners(list: readonly CodeownersOwner[], author: string): string {
  const eligible = list.filter((owner) => !(owner.kind === "user" && owner.login.toLowerCase() === author.toLowerCase()));
  if (eligible.length === 0) return "nobody (no code owner other than the author)";
  return eligible.map((owner) => (owner.kind === "email" ? code(formatOwner(owner)) : formatOwner(owner))).join(", ");
}

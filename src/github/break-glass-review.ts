/**
 * The review a break-glass grant owes after its merge: a code owner approves the merged pull
 * request, or comments `/jitsudo ack` on it. This is the one place where a review given after the
 * merge counts (the merge verdict ignores them: they cannot have approved what was merged).
 *
 * Who may review, failing closed like an approval: not the requester; write access or more; a
 * code owner of every break-glass file of the pull request under CODEOWNERS as it was at the
 * merge's base (the owners who would have had to approve), by the reading jitsudo's verdict uses
 * (an ambiguous reading counts nobody), a team owner only through ACTIVE membership. Anyone else
 * changes nothing: their ack gets a 👎.
 */
import type { Knex } from "knex";
import { WRITE_ACCESS } from "../approval/approval.js";
import { readWholeCodeowners } from "../approval/governance.js";
import { formatOwner, ownership, type Codeowners } from "../approval/codeowners.js";
import { namesUser } from "../approval/owner-check.js";
import { parseTenantConfig, principalFor } from "../config/tenant.js";
import { rowsAs } from "../db/knex.js";
import { isRequester, policyOf } from "../grants/grant-repository.js";
import { recordBreakGlassReview, unreviewedOfPullRequest, type BreakGlassGrant } from "../grants/break-glass-store.js";
import type { ReviewReminderPoster } from "../grants/reporter.js";
import type { GitHubGateway } from "./gateway.js";
import type { PullCommit } from "./types.js";
import { gatewayOfGrant, type GitHubReminderPosterOptions } from "./reminder-comments.js";
import { code, utc } from "./markdown.js";
import type { Log } from "../observability/logger.js";

export interface BreakGlassReviewInput {
  tenant: number;
  repositoryId: number;
  pullNumber: number;
  reviewer: string;
  /** GitHub's user id of the reviewer: logins can be renamed and reused. */
  reviewerId?: number;
  how: "approval" | "ack";
}

export type BreakGlassReviewOutcome =
  { kind: "reviewed"; grants: BreakGlassGrant[] } | { kind: "refused"; reason: string } | { kind: "nothing" };

export async function reviewBreakGlass(
  gateway: GitHubGateway,
  input: BreakGlassReviewInput,
  deps: { db: Knex; log: Log; now: () => Date },
): Promise<BreakGlassReviewOutcome> {
  const grants = await unreviewedOfPullRequest(deps.db, input.repositoryId, input.pullNumber, input.tenant);
  if (grants.length === 0) return { kind: "nothing" };
  const refusal = await whyNotReviewer(gateway, deps.db, input, grants);
  if (refusal) {
    deps.log.warn({ pr: input.pullNumber, reviewer: input.reviewer, reason: refusal }, "break-glass review refused");
    return { kind: "refused", reason: refusal };
  }
  const reviewed = await recordBreakGlassReview(deps.db, grants, { reviewer: input.reviewer, how: input.how, at: deps.now() });
  if (reviewed.length === 0) return { kind: "nothing" };
  deps.log.info({ pr: input.pullNumber, reviewer: input.reviewer, grants: reviewed.map((grant) => grant.id) }, "break-glass reviewed");
  await gateway.createIssueComment(
    input.pullNumber,
    [
      "### jitsudo: break-glass reviewed :white_check_mark:",
      "",
      `@${input.reviewer}, a code owner, reviewed the break-glass access of ${reviewed.map((grant) => code(grant.file_path)).join(", ")} (${input.how === "ack" ? "`/jitsudo ack`" : "approved this pull request after the merge"}). No more reminders will be sent.`,
    ].join("\n"),
  );
  return { kind: "reviewed", grants: reviewed };
}

/** Why `input.reviewer` may not review these grants; undefined when they may. */
async function whyNotReviewer(
  gateway: GitHubGateway,
  db: Knex,
  input: BreakGlassReviewInput,
  grants: readonly BreakGlassGrant[],
): Promise<string | undefined> {
  const login = input.reviewer;
  if (grants.some((grant) => isRequester(grant, input.reviewer, input.reviewerId)))
    return `@${login} is the requester and cannot review their own break-glass access`;
  // As for an approval: never the grantee under another GitHub login, never someone who wrote or committed a commit of it.
  const grantee = await granteeReason(db, grants, login);
  if (grantee) return grantee;
  const commits = await gateway.listPullRequestCommits(input.pullNumber);
  const contributed = commits.filter((commit) =>
    [commit.authorLogin, commit.committerLogin].some((who) => isSamePerson(who, commit, input)),
  );
  if (contributed.length > 0)
    return `@${login} authored or committed ${contributed.map((commit) => commit.sha.slice(0, 7)).join(", ")} in this pull request, so their review cannot count`;
  const permission = await gateway.repoPermission(login);
  if (!WRITE_ACCESS.has(permission))
    return `@${login} has ${permission === "none" ? "no" : permission} permission on the repository; reviewers need write`;
  const base = await mergeBase(db, input);
  if (!base) return "the merge's base commit is not recorded, so its code owners are unknown";
  const codeowners = await readWholeCodeowners(gateway, base);
  if (!codeowners) return `there is no CODEOWNERS file at the merge's base ${base.slice(0, 7)}`;
  for (const path of new Set(grants.map((grant) => grant.file_path))) {
    const refusal = await ownsStrictly(gateway, codeowners, path, login);
    if (refusal) return refusal;
  }
  return undefined;
}

/** undefined when `login` owns `path` under the one reading GitHub applies; otherwise why not. */
async function ownsStrictly(gateway: GitHubGateway, codeowners: Codeowners, path: string, login: string): Promise<string | undefined> {
  const owned = ownership(codeowners, path);
  if (owned.ambiguity) return `${owned.ambiguity.message}, so nobody's review can count for ${path}`;
  for (const owner of owned.owners) {
    if (namesUser(owner, login)) return undefined;
    if (owner.kind === "team" && (await gateway.teamMembership(owner.org, owner.slug, login)) === "active") return undefined;
  }
  const owners = owned.owners.filter((owner) => owner.kind !== "email").map(formatOwner);
  return `@${login} is not a code owner of ${path}${owners.length > 0 ? ` (its owners: ${owners.join(", ")})` : ""}`;
}

async function mergeBase(db: Knex, input: BreakGlassReviewInput): Promise<string | undefined> {
  const row = await rowsAs<{ base_sha: string | null } | undefined>(
    db("merge_verdicts")
      .where({ tenant: input.tenant, repository_id: input.repositoryId, pr_number: input.pullNumber, verdict: "approved" })
      .first("base_sha"),
  );
  return row?.base_sha ?? undefined;
}

/** The reviewer is the grantee when the policy the grant was approved under maps their login to its principal. */
async function granteeReason(db: Knex, grants: readonly BreakGlassGrant[], login: string): Promise<string | undefined> {
  const parsedBySha = new Map<string | null, ReturnType<typeof parseTenantConfig> | undefined>();
  for (const grant of grants) {
    // A merge's grants share its policy: read and parsed once.
    if (!parsedBySha.has(grant.policy_sha256)) {
      const policy = await policyOf(db, grant);
      parsedBySha.set(grant.policy_sha256, policy === undefined ? undefined : parseTenantConfig(new TextEncoder().encode(policy)));
    }
    const parsed = parsedBySha.get(grant.policy_sha256);
    if (!parsed?.ok)
      return "the policy the grant was approved under cannot be read, so jitsudo cannot show the reviewer is not the grantee";
    if (principalFor(parsed.config, login).toLowerCase() === grant.principal.toLowerCase())
      return `@${login} is the grantee (${grant.principal}) and cannot review access for themselves`;
  }
  return undefined;
}

/** A commit's author or committer is the reviewer: by id when GitHub gave both, else by login. */
function isSamePerson(who: string | undefined, commit: PullCommit, input: BreakGlassReviewInput): boolean {
  if (who === undefined) return false;
  const id = who === commit.authorLogin ? commit.authorId : commit.committerId;
  if (id !== undefined && input.reviewerId !== undefined) return id === input.reviewerId;
  return who.toLowerCase() === input.reviewer.toLowerCase();
}

/** A GitHub login or @org/team as CODEOWNERS writes them: anything else is not mentioned. */
const OWNER = /^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\/[A-Za-z0-9._-]{1,100})?$/;

export function renderReviewReminder(grant: BreakGlassGrant & { break_glass_owners?: unknown }): string {
  const owners = Array.isArray(grant.break_glass_owners)
    ? grant.break_glass_owners.filter((owner): owner is string => typeof owner === "string" && OWNER.test(owner))
    : [];
  return [
    "### jitsudo: break-glass access still unreviewed :rotating_light:",
    "",
    `${owners.length > 0 ? owners.join(", ") : "Code owners"}: @${grant.requester} used break-glass (${grant.break_glass_team}) for ${code(grant.file_path)}, and no code owner has reviewed it; the review was due ${utc(grant.break_glass_review_due_at)}.`,
    `Approve this pull request, or comment ${code("/jitsudo ack")}. Reminder ${grant.break_glass_reminders}; the next comes ${grant.break_glass_next_reminder_at ? utc(grant.break_glass_next_reminder_at) : "later"}.`,
  ].join("\n");
}

/** Posts review reminders on the grant's pull request, through the installation's gateway. */
export class GitHubReviewReminderPoster implements ReviewReminderPoster {
  constructor(private readonly options: GitHubReminderPosterOptions) {}

  async post(grant: BreakGlassGrant): Promise<void> {
    const gateway = await gatewayOfGrant(this.options, grant);
    await gateway.createIssueComment(grant.pr_number, renderReviewReminder(grant));
  }
}

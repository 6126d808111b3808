/**
 * A merged pull request becomes grants, or a recorded refusal. Everything the verdict needs is
 * read from GitHub at the moment of processing (never trusted from the webhook or from what was
 * validated earlier), the verdict is computed by the pure `judgeMerge`, and the outcome is
 * recorded exactly once, then reported in the sticky comment.
 */
import type { Knex } from "knex";
import { judgeMerge, lookupsNeeded, NO_REQUEST_FILES, teamKey, type MergeVerdict, type RepoPermission, type TeamMembership } from "../approval/approval.js";
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES } from "../approval/codeowners.js";
import { TENANT_CONFIG_PATH } from "../config/tenant.js";
import { recordTenantConfig } from "../config/tenant-snapshots.js";
import { recordMerge, type NewGrant } from "../grants/store.js";
import { REQUEST_FILE_MAX_BYTES } from "../requests/access-request.js";
import { requestPathsOf } from "../requests/pull-request-review.js";
import type { FileAt, FileBytes, GitHubGateway, PullRequestInfo } from "./gateway.js";
import { renderVerdictComment, upsertStickyComment } from "./sticky-comment.js";
import type { Log } from "../logger.js";

export interface MergeInfo {
  tenant: number;
  repoFullName: string;
  defaultBranch: string;
  pr: PullRequestInfo;
  mergeCommitSha: string;
  mergedAt: Date;
  mergedBy?: string;
  /** How many commits GitHub says the PR has; its commit list stops at 250. */
  commitCount: number;
}

export interface MergeDeps {
  db: Knex;
  now: () => Date;
  log: Log;
}

export type MergeOutcome = "granted" | "rejected" | "ignored" | "already-recorded";

/**
 * The merge to judge, from a pull request as GitHub describes it (webhook payload or API). Undefined
 * when it is not merged, or when GitHub's description lacks the commit count (pull request lists do).
 */
export function mergeInfoOf(tenant: number, repository: { full_name: string; default_branch: string }, pr: PullRequestInfo): MergeInfo | undefined {
  if (!pr.merge || pr.merge.commitCount === undefined) return undefined;
  return {
    tenant,
    repoFullName: repository.full_name,
    defaultBranch: repository.default_branch,
    pr,
    mergeCommitSha: pr.merge.commitSha,
    mergedAt: pr.merge.mergedAt,
    ...(pr.merge.mergedBy ? { mergedBy: pr.merge.mergedBy } : {}),
    commitCount: pr.merge.commitCount,
  };
}

export async function processMerge(gateway: GitHubGateway, merge: MergeInfo, deps: MergeDeps): Promise<MergeOutcome> {
  const key = { tenant: merge.tenant, repo: merge.repoFullName, pr_number: merge.pr.number, merge_commit_sha: merge.mergeCommitSha };
  // Redeliveries and replicas: a merge already judged costs one indexed read, no GitHub calls.
  if (await deps.db("merge_verdicts").where(key).first()) return "already-recorded";

  const { verdict, base } = await judge(gateway, merge, deps.now());
  const outcome: MergeOutcome = verdict.approved ? "granted" : isIgnorable(verdict) ? "ignored" : "rejected";
  const recorded = await recordMerge(deps.db, {
    tenant: merge.tenant,
    repo: merge.repoFullName,
    prNumber: merge.pr.number,
    mergeCommitSha: merge.mergeCommitSha,
    mergedAt: merge.mergedAt,
    verdict: outcome === "granted" ? "approved" : outcome === "ignored" ? "ignored" : "rejected",
    reasons: allReasons(verdict),
    actor: "jitsudo",
    details: {
      head_sha: merge.pr.headSha,
      merged_by: merge.mergedBy ?? null,
      files: verdict.files.map((file) => ({ path: file.path, kind: file.kind, approved: file.approved, approvers: file.approvers, blob_sha: file.blobSha ?? null })),
    },
    grants: outcome === "granted" ? grantsOf(verdict, merge) : [],
    revokedPaths: outcome === "granted" ? verdict.files.filter((file) => file.kind === "revoke").map((file) => file.path) : [],
  });
  if (!recorded.recorded) return "already-recorded";

  deps.log.info({ pr: merge.pr.number, merge: merge.mergeCommitSha, outcome, reasons: allReasons(verdict) }, "merge judged");
  // The policy in force on the default branch, for the worker's drift job.
  if (base.config.kind === "file" && merge.pr.baseRef === merge.defaultBranch) {
    await recordTenantConfig(deps.db, { tenant: merge.tenant, repo: merge.repoFullName, commitSha: base.sha, content: new TextDecoder().decode(base.config.bytes), readAt: merge.mergedAt });
  }
  if (outcome !== "ignored") {
    await upsertStickyComment(gateway, merge.pr.number, renderVerdictComment(verdict, merge));
  }
  return outcome;
}

async function judge(gateway: GitHubGateway, merge: MergeInfo, now: Date): Promise<{ verdict: MergeVerdict; base: { sha: string; config: FileBytes } }> {
  const [files, parents, reviews, commits] = await Promise.all([
    gateway.listPullRequestFiles(merge.pr.number),
    gateway.commitParents(merge.mergeCommitSha),
    gateway.listReviews(merge.pr.number),
    gateway.listPullRequestCommits(merge.pr.number),
  ]);
  const baseSha = parents[0];
  if (!baseSha) throw new Error(`merge commit ${merge.mergeCommitSha} has no parent`);

  const paths = requestPathsOf(files);
  const at = (ref: string, path: string, maxBytes: number): FileAt => ({ ref, path, maxBytes });
  const contents = await gateway.readFiles([
    at(baseSha, TENANT_CONFIG_PATH, CODEOWNERS_MAX_BYTES),
    ...CODEOWNERS_LOCATIONS.map((path) => at(baseSha, path, CODEOWNERS_MAX_BYTES)),
    ...paths.map((path) => at(merge.mergeCommitSha, path, REQUEST_FILE_MAX_BYTES)),
    ...paths.map((path) => at(merge.pr.headSha, path, REQUEST_FILE_MAX_BYTES)),
  ]);
  const governance = 1 + CODEOWNERS_LOCATIONS.length;
  const evidence = {
    pr: {
      number: merge.pr.number,
      authorLogin: merge.pr.authorLogin,
      headSha: merge.pr.headSha,
      baseRef: merge.pr.baseRef,
      mergeCommitSha: merge.mergeCommitSha,
      ...(merge.mergedBy ? { mergedBy: merge.mergedBy } : {}),
    },
    defaultBranch: merge.defaultBranch,
    baseSha,
    files,
    configFile: contents[0]!,
    codeownersFiles: contents.slice(1, governance),
    atMerge: new Map(paths.map((path, index) => [path, contents[governance + index]!])),
    atHead: new Map(paths.map((path, index) => [path, contents[governance + paths.length + index]!])),
    reviews,
    commits,
    now,
  };

  // Each team membership and each permission is asked once per verdict, all at the same time.
  const needed = lookupsNeeded(evidence);
  const [memberships, permissions] = await Promise.all([
    Promise.all(needed.teams.map(async ({ org, slug, login }) => [teamKey(org, slug, login), await gateway.teamMembership(org, slug, login)] as const)),
    Promise.all(needed.logins.map(async (login) => [login, await gateway.repoPermission(login)] as const)),
  ]);
  const verdict = judgeMerge({
    ...evidence,
    teamMemberships: new Map<string, TeamMembership>(memberships),
    permissions: new Map<string, RepoPermission>(permissions),
  });
  const base = { sha: baseSha, config: evidence.configFile };
  if (commits.length < merge.commitCount) {
    // GitHub lists at most 250 commits: unseen commits could be an approver's own. Fail closed.
    const reason = `GitHub lists only ${commits.length} of this pull request's ${merge.commitCount} commits, so jitsudo cannot check who wrote them all; split it into smaller pull requests`;
    return { verdict: { ...verdict, approved: false, reasons: [...verdict.reasons, reason] }, base };
  }
  return { verdict, base };
}

function isIgnorable(verdict: MergeVerdict): boolean {
  return verdict.files.length === 0 && verdict.reasons.length === 1 && verdict.reasons[0] === NO_REQUEST_FILES;
}

function allReasons(verdict: MergeVerdict): string[] {
  return [...verdict.reasons, ...verdict.files.flatMap((file) => file.reasons.map((reason) => `${file.path}: ${reason}`))];
}

function grantsOf(verdict: MergeVerdict, merge: MergeInfo): NewGrant[] {
  const grantFiles = verdict.files.filter((file) => file.kind === "grant");
  const grants = grantFiles.flatMap((file) => {
    const parsed = file.review?.parsed;
    const principal = file.review?.decision?.principal;
    if (!parsed || !principal || !file.window || !file.blobSha) return [];
    return [
      {
        filePath: file.path,
        blobSha: file.blobSha,
        requester: merge.pr.authorLogin,
        principal,
        accountRef: parsed.request.account,
        permissionSetRef: parsed.request.permission_set,
        startsAt: file.window.startsAt,
        expiresAt: file.window.expiresAt,
        reason: parsed.request.reason,
        ...(parsed.request.ticket ? { ticket: parsed.request.ticket } : {}),
        approvers: file.approvers,
        ...(file.review?.decision?.rule ? { policyRule: file.review.decision.rule.index } : {}),
        aws: verdict.tenantAws,
      },
    ];
  });
  // An approved verdict always carries these; if one did not, grant nothing rather than part.
  if (grants.length !== grantFiles.length) throw new Error("approved verdict without a complete request; nothing recorded");
  return grants;
}

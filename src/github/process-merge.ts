/**
 * A merged pull request becomes grants, or a recorded refusal. Everything the verdict needs is
 * read from GitHub at the moment of processing (never trusted from the webhook or from what was
 * validated earlier), the verdict is computed by the pure `judgeMerge`, and the outcome is
 * recorded exactly once, then reported in the sticky comment.
 */
import type { Metrics } from "../observability/metrics.js";
import type { Knex } from "knex";
import { judgeMerge, lookupsNeeded, NO_REQUEST_FILES, type MergeEvidence, type MergeVerdict } from "../approval/approval.js";
import { commitsToInspect, governanceChangesOf } from "../approval/commit-history.js";
import { proveMergeBase, type BaseProof } from "../approval/merge-base.js";
import type { AccessRepositories } from "../config/access-repositories.js";
import { recordTenantConfig } from "../config/tenant-snapshots.js";
import { recordMerge, type MergeRecord, type NewGrant } from "../grants/grant-repository.js";
import { DEFAULT_REMIND_BEFORE_MS, remindBeforeSeconds } from "../grants/reminders.js";
import { hasVerdict } from "../grants/merge-records.js";
import { REQUEST_FILE_MAX_BYTES, tooManyRequestFiles } from "../requests/access-request.js";
import { printable } from "../parsing/printable.js";
import { GOVERNANCE_PATHS, readGovernance } from "../approval/governance.js";
import { validateEach } from "../requests/validate-files.js";
import { requestPathsOf, touchesRequestFiles } from "../approval/pull-request-review.js";
import type { GitHubGateway } from "./gateway.js";
import type { BranchPushers, FileAt, FileBytes, PullFile, PullRequestInfo } from "./types.js";
import { adoptLegacyGrants } from "./legacy-grants.js";
import { keepLookups, keptLookups, lookUp } from "./merge-lookups.js";
import type { BackgroundWork } from "./background-work.js";
import { renderVerdictComment } from "./sticky-comment.js";
import { queueVerdictComment, sendVerdictComment } from "./verdict-comments.js";
import type { Log } from "../observability/logger.js";

export interface MergeInfo {
  tenant: number;
  /** GitHub's numeric repository id: the tenant role's ExternalId names it. */
  repositoryId: number;
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
  /** JITSUDO_ACCESS_REPOSITORIES, pinned by repository id: no other repository records anything. */
  access: AccessRepositories;
  /** Where the verdict comment is sent once the verdict is recorded; without it the comment is awaited. */
  background?: BackgroundWork;
  metrics?: Metrics;
}

export type MergeOutcome = "granted" | "rejected" | "ignored" | "already-recorded" | "not-an-access-repository";

/** How long a merge waits for GitHub's record of it to appear before it is refused for lack of one. */
export const BASE_RECORD_WAIT_MS = 10 * 60_000;
/** GitHub's activity timestamps and merged_at come from different clocks. */
const ACTIVITY_SKEW_MS = 5 * 60_000;

/** Between two looks for GitHub's record of a merge that has not appeared yet. */
const RECORD_LOOK_AGAIN_MS = 30_000;

/** The merge cannot be judged yet (GitHub has not recorded it): the inbox tries its delivery again. */
export class MergeNotJudgedYet extends Error {
  readonly retryInMs = RECORD_LOOK_AGAIN_MS;
  constructor(readonly reason: string) {
    super(`merge not judged yet: ${reason}`);
    this.name = "MergeNotJudgedYet";
  }
}

/**
 * The merge to judge, from a pull request as GitHub describes it (webhook payload or API). Undefined
 * when it is not merged, or when GitHub's description lacks the commit count (pull request lists do).
 */
export function mergeInfoOf(
  tenant: number,
  repository: { id: number; full_name: string; default_branch: string },
  pr: PullRequestInfo,
): MergeInfo | undefined {
  if (!pr.merge || pr.merge.commitCount === undefined) return undefined;
  return {
    tenant,
    repositoryId: repository.id,
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
  const repository = { id: merge.repositoryId, fullName: merge.repoFullName };
  if (!(await deps.access.allows(repository))) return "not-an-access-repository";
  // Redeliveries, replicas and renames: a merge already judged costs one indexed read, no GitHub calls.
  if (await isRecorded(deps.db, merge)) return "already-recorded";

  const ownCredentials = await deps.access.ownCredentialsServe(repository);
  // A merged edit or deletion acts on earlier grants of this repository, which must carry its id.
  await adoptLegacyGrants(deps.db, gateway, merge.tenant, merge.repositoryId, deps.log);
  const { verdict, base, configFile } = await judge(gateway, merge, deps, ownCredentials);
  const outcome: MergeOutcome = verdict.approved ? "granted" : isIgnorable(verdict) ? "ignored" : "rejected";
  const policy = configFile?.kind === "file" ? new TextDecoder().decode(configFile.bytes) : undefined;
  const comment = outcome === "ignored" ? undefined : renderVerdictComment(verdict, merge);
  const recorded = await recordMerge(deps.db, mergeRecordOf(merge, verdict, base, outcome, policy, comment));
  if (!recorded.recorded) return "already-recorded";

  deps.log.info({ pr: merge.pr.number, merge: merge.mergeCommitSha, outcome, reasons: allReasons(verdict) }, "merge judged");
  const brokenGlass = outcome === "granted" ? verdict.files.filter((file) => file.breakGlass !== undefined) : [];
  if (brokenGlass.length > 0) {
    deps.metrics?.breakGlass.inc(brokenGlass.length);
    deps.log.warn(
      {
        pr: merge.pr.number,
        requester: merge.pr.authorLogin,
        files: brokenGlass.map((file) => file.path),
        teams: brokenGlass.map((file) => file.breakGlass!.team),
      },
      "access granted by break-glass, without code-owner approval",
    );
  }
  await recordPolicyInForce(deps.db, merge, base, policy);
  if (comment !== undefined) await deliverVerdictComment(gateway, merge, deps, comment);
  return outcome;
}

/** What is recorded of the judged merge: its verdict, the evidence it rests on, its grants and the paths it revokes. */
function mergeRecordOf(
  merge: MergeInfo,
  verdict: MergeVerdict,
  base: BaseProof,
  outcome: MergeOutcome,
  policy: string | undefined,
  comment: string | undefined,
): MergeRecord {
  return {
    tenant: merge.tenant,
    repositoryId: merge.repositoryId,
    repo: merge.repoFullName,
    prNumber: merge.pr.number,
    mergeCommitSha: merge.mergeCommitSha,
    mergedAt: merge.mergedAt,
    ...(base.proven ? { baseSha: base.baseSha } : {}),
    verdict: outcome === "granted" ? "approved" : outcome === "ignored" ? "ignored" : "rejected",
    reasons: allReasons(verdict),
    actor: "jitsudo",
    details: {
      head_sha: merge.pr.headSha,
      base: base.proven ? { sha: base.baseSha, how: base.how } : { unproven: base.reason },
      merged_by: merge.mergedBy ?? null,
      files: verdict.files.map((file) => ({
        path: file.path,
        kind: file.kind,
        approved: file.approved,
        approvers: file.approvers,
        blob_sha: file.blobSha ?? null,
      })),
    },
    grants: outcome === "granted" ? grantsOf(verdict, merge) : [],
    ...(outcome === "granted" && policy !== undefined ? { policy } : {}),
    // Revoking is the safe direction: an approved removal ends its grant even when the grants of
    // the same merge are refused.
    revokedPaths: verdict.files.filter((file) => file.kind === "revoke" && file.approved).map((file) => file.path),
    ...(comment !== undefined ? { comment } : {}),
  };
}

/**
 * The policy in force on the default branch, for the worker's drift job. It is the policy just
 * before the merge: a second earlier than the merge's own push, which records a policy the merge changed.
 */
async function recordPolicyInForce(db: Knex, merge: MergeInfo, base: BaseProof, policy: string | undefined): Promise<void> {
  if (base.proven && policy !== undefined && merge.pr.baseRef === merge.defaultBranch) {
    await recordTenantConfig(db, {
      tenant: merge.tenant,
      repositoryId: merge.repositoryId,
      repo: merge.repoFullName,
      commitSha: base.baseSha,
      content: policy,
      readAt: new Date(merge.mergedAt.getTime() - 1000),
    });
  }
}

async function deliverVerdictComment(gateway: GitHubGateway, merge: MergeInfo, deps: MergeDeps, comment: string): Promise<void> {
  const key = { tenant: merge.tenant, repositoryId: merge.repositoryId, prNumber: merge.pr.number, mergeCommitSha: merge.mergeCommitSha };
  // Recorded as owed with the verdict; sent now, or by the resend job if this send is lost.
  const send = () => sendVerdictComment(deps.db, gateway, key, comment);
  if (deps.background) queueVerdictComment(deps.background, deps.log, { pr: merge.pr.number, merge: merge.mergeCommitSha }, send);
  else await send();
}

/** Whether this merge of this repository (by id, so across renames) already has a verdict. */
export async function isRecorded(
  db: Knex,
  merge: Pick<MergeInfo, "tenant" | "repositoryId" | "repoFullName" | "mergeCommitSha"> & { pr: { number: number } },
): Promise<boolean> {
  return hasVerdict(
    db,
    { tenant: merge.tenant, repositoryId: merge.repositoryId, repo: merge.repoFullName },
    merge.pr.number,
    merge.mergeCommitSha,
  );
}

interface Judged {
  verdict: MergeVerdict;
  base: BaseProof;
  /** `.github/jitsudo.yml` at the proven base, when it was read. */
  configFile?: FileBytes;
}

async function judge(gateway: GitHubGateway, merge: MergeInfo, deps: MergeDeps, repositoryListed: boolean): Promise<Judged> {
  const now = deps.now();
  const files = await gateway.listPullRequestFiles(merge.pr.number);
  const changedFiles = merge.pr.changedFiles;
  // Most merges of an access repository change no request: no further call for them.
  if (!touchesRequestFiles(files) && changedFiles !== undefined && files.length >= changedFiles) {
    return {
      verdict: { approved: false, files: [], reasons: [NO_REQUEST_FILES], teamLookups: [], tenantAws: {} },
      base: { proven: false, retry: false, reason: NO_REQUEST_FILES },
    };
  }
  const activity = await readMergeActivity(gateway, merge);
  const { base, parents, commits } = activity;
  const partial = partialEvidence(merge, deps, files, activity, repositoryListed, now);
  const kept = await keptLookups(deps.db, merge);
  if (!base.proven && base.retry && now.getTime() - merge.mergedAt.getTime() < BASE_RECORD_WAIT_MS) {
    // Judged later, but with the memberships and permissions of now: the base is most likely the
    // merge commit's parent, so what its CODEOWNERS would ask is kept for the later judgement.
    const provisional = { ...partial, base: { proven: true, baseSha: parents[0]!, how: "provisional" } as const };
    const atParent = parents[0] ? await readAtBase(gateway, merge, parents[0], files, commits, now) : undefined;
    if (atParent) await keepLookups(deps.db, merge, await lookUp(gateway, lookupsNeeded({ ...provisional, ...atParent }), kept));
    throw new MergeNotJudgedYet(base.reason);
  }
  const atBase = base.proven ? await readAtBase(gateway, merge, base.baseSha, files, commits, now) : undefined;
  const headPushers = atBase && asksForBreakGlass(atBase.atMerge) ? await readHeadPushers(gateway, merge) : undefined;
  const evidence: Omit<MergeEvidence, "teamMemberships" | "permissions" | "teams"> = atBase
    ? { ...partial, ...atBase, ...(headPushers ? { headPushers } : {}) }
    : { ...partial, ...NOTHING_READ };
  const answers = await lookUp(gateway, lookupsNeeded(evidence), kept);
  const verdict = judgeMerge({ ...evidence, teamMemberships: answers.memberships, permissions: answers.permissions, teams: answers.teams });
  return { verdict, base, ...(atBase ? { configFile: atBase.configFile } : {}) };
}

/** Whether a merged request file may ask for break-glass: only then is it worth asking who pushed. */
function asksForBreakGlass(atMerge: ReadonlyMap<string, FileBytes>): boolean {
  return [...atMerge.values()].some((file) => file.kind === "file" && new TextDecoder().decode(file.bytes).includes("break_glass"));
}

/**
 * Who pushed to the pull request's branch, for break-glass (whose grant no owner approved, so the
 * content must be the requester's alone: a commit's author is whatever its e-mail says, a push is
 * GitHub's record of who made it). A fork's branch is in another repository, whose records jitsudo
 * cannot read: unavailable, and break-glass is refused.
 */
async function readHeadPushers(gateway: GitHubGateway, merge: MergeInfo): Promise<BranchPushers> {
  if (merge.pr.headRef === undefined || merge.pr.headRepositoryId !== merge.repositoryId)
    return {
      kind: "unavailable",
      reason: "the pull request's branch is not in this repository (a fork), whose push records jitsudo cannot read",
    };
  return gateway.branchPushers(merge.pr.headRef);
}

/** What GitHub recorded around the merge, read at once, and the base the merge is proven to have replaced. */
async function readMergeActivity(gateway: GitHubGateway, merge: MergeInfo) {
  const onDefaultBranch = merge.pr.baseRef === merge.defaultBranch;
  const since = new Date(merge.mergedAt.getTime() - ACTIVITY_SKEW_MS);
  const [parents, reviews, commits, timeline, update] = await Promise.all([
    gateway.commitParents(merge.mergeCommitSha),
    gateway.listReviews(merge.pr.number),
    gateway.listPullRequestCommits(merge.pr.number),
    gateway.pullTimeline(merge.pr.number),
    onDefaultBranch
      ? gateway.branchUpdate(merge.defaultBranch, merge.mergeCommitSha, since)
      : Promise.resolve({ kind: "not-found" as const }),
  ]);
  const base: BaseProof = onDefaultBranch
    ? proveMergeBase(
        { mergeCommitSha: merge.mergeCommitSha, parents, headSha: merge.pr.headSha, commitCount: merge.commitCount },
        update.kind === "found" ? [{ before: update.before, after: update.after, activityType: update.activityType }] : [],
        update.kind === "unavailable",
      )
    : { proven: false, retry: false, reason: `merged into ${merge.pr.baseRef}, not the default branch` };
  return { parents, reviews, commits, timeline, base };
}

type MergeActivity = Awaited<ReturnType<typeof readMergeActivity>>;

/** The evidence known before the files at the base are read. */
function partialEvidence(
  merge: MergeInfo,
  deps: MergeDeps,
  files: PullFile[],
  { base, reviews, commits, timeline }: MergeActivity,
  repositoryListed: boolean,
  now: Date,
) {
  const changedFiles = merge.pr.changedFiles;
  return {
    pr: {
      number: merge.pr.number,
      authorLogin: merge.pr.authorLogin,
      ...(merge.pr.authorId !== undefined ? { authorId: merge.pr.authorId } : {}),
      headSha: merge.pr.headSha,
      baseRef: merge.pr.baseRef,
      mergeCommitSha: merge.mergeCommitSha,
      mergedAt: merge.mergedAt,
      ...(merge.mergedBy ? { mergedBy: merge.mergedBy } : {}),
    },
    defaultBranch: merge.defaultBranch,
    base,
    ...(changedFiles !== undefined ? { changedFiles } : {}),
    commitCount: merge.commitCount,
    files,
    reviews,
    commits,
    timeline,
    repositoryListed,
    ...(deps.access.ownInstanceArn ? { ownInstanceArn: deps.access.ownInstanceArn } : {}),
    now,
  };
}

/** Evidence that only exists once the base is known; empty when it is not (nothing is judged then). */
const NOTHING_READ = {
  configFile: { kind: "missing" },
  codeownersFiles: [],
  atMerge: new Map(),
  atHead: new Map(),
  governanceChanges: [],
  githubCodeowners: { kind: "ok", errors: [] },
} satisfies Partial<MergeEvidence>;

/** The policy and CODEOWNERS at the base, the request files at the merge and the head, and every commit's governance files. */
async function readAtBase(
  gateway: GitHubGateway,
  merge: MergeInfo,
  baseSha: string,
  files: readonly PullFile[],
  commits: MergeEvidence["commits"],
  now: Date,
) {
  // Beyond the limit nothing is read: the verdict refuses the merge with one message.
  const paths = tooManyRequestFiles(requestPathsOf(files).length) ? [] : requestPathsOf(files);
  const at = (ref: string, path: string): FileAt => ({ ref, path, maxBytes: REQUEST_FILE_MAX_BYTES });
  const requestFiles = [...paths.map((path) => at(merge.mergeCommitSha, path)), ...paths.map((path) => at(merge.pr.headSha, path))];
  const [read, ids] = await Promise.all([
    readGovernance(gateway, baseSha, requestFiles),
    gateway.objectIdsAt(commitsToInspect(commits), GOVERNANCE_PATHS),
  ]);
  const { also, ...governanceEvidence } = read;
  const atMerge = also.slice(0, paths.length);
  const atHead = also.slice(paths.length);
  // Validated as the verdict would (the base config only when it is usable), a turn of the event loop per file.
  const { config, policyBlocker } = read.governance;
  const merged = paths.flatMap((path, index) => {
    const content = atMerge[index]!;
    return content.kind === "file" ? [{ path, bytes: content.bytes }] : [];
  });
  const validated = await validateEach(merged, { ...(policyBlocker ? {} : { config }), requester: merge.pr.authorLogin, now });
  return {
    validated,
    ...governanceEvidence,
    atMerge: new Map(paths.map((path, index) => [path, atMerge[index]!])),
    atHead: new Map(paths.map((path, index) => [path, atHead[index]!])),
    governanceChanges: governanceChangesOf(commits, GOVERNANCE_PATHS, ids),
  };
}

function isIgnorable(verdict: MergeVerdict): boolean {
  return verdict.files.length === 0 && verdict.reasons.length === 1 && verdict.reasons[0] === NO_REQUEST_FILES;
}

function allReasons(verdict: MergeVerdict): string[] {
  return [...verdict.reasons, ...verdict.files.flatMap((file) => file.reasons.map((reason) => `${printable(file.path)}: ${reason}`))];
}

/** The rule's remind_before (null: off); an approved grant always has its rule, but never drop a reminder for lack of one. */
function remindBeforeOf(rule: { remindBeforeMs: number | null } | undefined): number | null {
  return rule ? rule.remindBeforeMs : DEFAULT_REMIND_BEFORE_MS;
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
        ...(merge.pr.authorId !== undefined ? { requesterId: merge.pr.authorId } : {}),
        principal,
        accountRef: parsed.request.account,
        permissionSetRef: parsed.request.permission_set,
        startsAt: file.window.startsAt,
        expiresAt: file.window.expiresAt,
        reason: parsed.request.reason,
        ...(parsed.request.ticket ? { ticket: parsed.request.ticket } : {}),
        approvers: file.approvers,
        approverSets: file.approverSets,
        ...(file.review?.decision?.rule ? { policyRule: file.review.decision.rule.index } : {}),
        // A starts_at the window did not open at (one in the past, or none) means it opens at the merge.
        startsOnMerge: parsed.startsAt === undefined || parsed.startsAt < file.window.startsAt,
        remindBeforeSeconds: remindBeforeSeconds(parsed.durationMs, remindBeforeOf(file.review?.decision?.rule)),
        ...(file.breakGlass
          ? {
              breakGlass: {
                team: file.breakGlass.team,
                reviewDueAt: new Date(file.window.startsAt.getTime() + file.breakGlass.reviewWithinMs),
                owners: file.breakGlass.owners,
              },
            }
          : {}),
        aws: verdict.tenantAws,
      },
    ];
  });
  // An approved verdict always carries these; if one did not, grant nothing rather than part.
  if (grants.length !== grantFiles.length) throw new Error("approved verdict without a complete request; nothing recorded");
  return grants;
}

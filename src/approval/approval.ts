/**
 * The verdict on a merged pull request: does merging it grant (or revoke) access? The rules are
 * those of the approval rulebook (`github-approval.md`, "The verdict"). Pure: the caller fetches
 * every piece of GitHub data first (see `lookupsNeeded` for the team and permission calls) and
 * passes the clock in, so every rule is a unit test and a re-run on the same evidence gives the
 * same answer.
 *
 * Interpretations of the rulebook, made explicit here:
 * - Renames are judged on both paths: the new path is a grant needing the rule's number of approvals
 *   from the new path's owners AND, separately, the same number from the old path's owners (one
 *   person who owns both counts for both); the old path also gets its own revoke verdict. A file
 *   renamed in from outside `access-requests/` was never a request there, so only its new path counts.
 * - Deleting a request file revokes its grant early and needs 1 approval from the deleted path's owners.
 * - A commit whose author or committer GitHub could not link to an account blocks the merge: jitsudo
 *   cannot rule out that an approver wrote it (the "second account" attack with an unlinked e-mail).
 * - E-mail owners never count: GitHub does not tell us which account owns an address.
 * - A team membership or permission missing from the maps (not fetched) never counts: fail closed.
 *   Neither does one GitHub did not answer (`Unreadable`): the reasons say which and why.
 * - A rule's `require_owners` teams are judged on the approvers who count for the request's own
 *   path (the new path of a rename): see `owner-groups.ts`.
 * - Governance paths are compared case-insensitively, so a case trick cannot slip one through.
 * - "Base" is the default branch exactly as it was before the merge, proven by `merge-base.ts`;
 *   when it cannot be proven, nothing else is judged and nothing is granted.
 * - Reviews submitted after `merged_at` do not exist for the verdict (GitHub accepts reviews on a
 *   merged PR); an approval submitted at or before the PR's last base change (a retarget, or a
 *   force push of the base) approved a different diff and does not count.
 * - A request file whose CODEOWNERS reading is ambiguous (see `codeowners.ts`) is not approved.
 */
import { principalFor, TENANT_CONFIG_PATH, type TeamRef, type TenantConfig } from "../config/tenant.js";
import type { BranchPushers, FileBytes, PullCommit, PullFile, PullTimeline, RepoPermission, Review } from "../github/types.js";
import { isRequestFilePath, requestPathProblem, tooManyRequestFiles, unreadableRequest } from "../requests/access-request.js";
import { byPosition } from "../parsing/problem.js";
import {
  isGovernancePath,
  governanceCommitBlockers,
  incompleteListBlockers,
  governanceOf,
  wholeCodeowners,
  type Blocker,
  type GovernanceEvidence,
} from "./governance.js";
import { accessWindow, validateRequest, type RequestReview } from "../requests/validate-request.js";
import { formatOwner, ownersUnderAnyReading, ownership, type Codeowners, type CodeownersOwner } from "./codeowners.js";
import { namesUser } from "./owner-check.js";
import type { GovernanceChange } from "./commit-history.js";
import type { BaseProof } from "./merge-base.js";
import { setAsideReason, standingReviews, type Reviewer, type SetAsideReview } from "./review-order.js";
import {
  isUnreadable,
  judgeOwnerGroups,
  type ExistenceAnswer,
  type MembershipAnswer,
  type OwnerGroup,
  type RequiredTeam,
} from "./owner-groups.js";

/** What the verdict judges. The governance files (`GovernanceEvidence`) are those at the proven base. */
export interface MergeEvidence extends GovernanceEvidence {
  pr: {
    number: number;
    authorLogin: string;
    authorId?: number;
    headSha: string;
    baseRef: string;
    mergeCommitSha: string;
    mergedBy?: string;
    mergedAt: Date;
  };
  defaultBranch: string;
  /** The default branch just before the merge, as proven from GitHub's records (merge-base.ts). */
  base: BaseProof;
  /** How many files and commits GitHub says the PR has: its lists stop at 3,000 files and 250 commits. */
  changedFiles?: number;
  commitCount: number;
  /** The PR's changed files (renames carry previousPath). */
  files: readonly PullFile[];
  /** Each request path's content at the merge commit. */
  atMerge: ReadonlyMap<string, FileBytes>;
  /** Each request path's content at pr.headSha (the approved head). */
  atHead: ReadonlyMap<string, FileBytes>;
  /** Merged request files already validated (base config when valid, the author, `now`), off the event loop's critical path. */
  validated?: ReadonlyMap<string, RequestReview>;
  /** All reviews, oldest first. */
  reviews: readonly Review[];
  /** All commits of the PR (as listed: at most 250). */
  commits: readonly PullCommit[];
  /** Commits of the PR that change CODEOWNERS or the policy, each judged against its parents. */
  governanceChanges: readonly GovernanceChange[];
  /** GitHub's timeline of the PR's reviews, merge and base changes; undefined when it could not be read. */
  timeline?: PullTimeline;
  /** Whether the operator listed this repository in JITSUDO_ACCESS_REPOSITORIES. */
  repositoryListed: boolean;
  /** Who pushed to the pull request's branch (GitHub's activity records), read when a request may ask for break-glass. */
  headPushers?: BranchPushers;
  /** IC_INSTANCE_ARN, when this process knows it: the only instance jitsudo's own credentials act on. */
  ownInstanceArn?: string;
  /** Keyed by `teamKey(org, slug, login)`; an `Unreadable` answer never counts. */
  teamMemberships: ReadonlyMap<string, MembershipAnswer>;
  /** Whether each team of a deciding rule's `require_owners` exists, keyed by `teamExistenceKey(org, slug)`; a missing answer never counts. */
  teams?: ReadonlyMap<string, ExistenceAnswer>;
  /** Keyed by login.toLowerCase(). */
  permissions: ReadonlyMap<string, RepoPermission>;
  /** When the merge is processed. */
  now: Date;
}

export interface FileVerdict {
  path: string;
  /** An added/changed request file → grant; a deleted (or renamed-away) request file → revoke of its live grant. */
  kind: "grant" | "revoke";
  approved: boolean;
  /** For "grant": the request as validated on the MERGED content. */
  review?: RequestReview;
  requiredApprovals: number;
  /** Logins whose approvals counted, sorted. */
  approvers: string[];
  /**
   * Per set of owners that had to approve (the path; for a rename also the old path): who counted,
   * and for the request's own path under a rule with `require_owners`, who stood for each team.
   */
  approverSets: ApproverSet[];
  blobSha?: string;
  window?: { startsAt: Date; expiresAt: Date };
  /** Set when the grant is approved by break-glass (without enough code-owner approvals): the team that let the requester. */
  breakGlass?: { team: string; reviewWithinMs: number; owners: string[] };
  /** Every reason it is not approved (empty when approved). */
  reasons: string[];
}

export interface ApproverSet {
  path: string;
  approvers: string[];
  /** Set under a rule with `require_owners`: each team and its active members among `approvers` (empty: still needed). */
  groups?: OwnerGroup[];
}

export interface MergeVerdict {
  approved: boolean;
  files: FileVerdict[];
  /** Reasons about the whole pull request. */
  reasons: string[];
  /** The distinct team-membership keys the verdict needed. */
  teamLookups: string[];
  /** The tenant's AWS settings at the base: where an approved grant is provisioned. */
  tenantAws: TenantConfig["aws"];
  /** The default branch before the merge, whose policy and code owners judged it (when proven). */
  baseSha?: string;
}

export const NO_REQUEST_FILES = "no request files";
/** "with approval like any other change": one code owner of the deleted path. */
export const REVOKE_APPROVALS = 1;
/** The permissions with which a code owner's review counts, as GitHub's own CODEOWNERS requires. */
export const WRITE_ACCESS: ReadonlySet<RepoPermission> = new Set(["admin", "maintain", "write"]);

/** The key of `teamMemberships`: GET /orgs/{org}/teams/{slug}/memberships/{login}. */
export function teamKey(org: string, slug: string, login: string): string {
  return `${org}/${slug}:${login.toLowerCase()}`;
}

/** The key of `teams`: GET /orgs/{org}/teams/{slug}. */
export function teamExistenceKey(org: string, slug: string): string {
  return `${org}/${slug}`;
}

export function judgeMerge(evidence: MergeEvidence): MergeVerdict {
  const lookups = new Lookups(evidence.teamMemberships, evidence.permissions, evidence.teams ?? new Map());
  const verdict = judge(evidence, lookups);
  return { ...verdict, teamLookups: lookups.teamKeys() };
}

/**
 * Which team memberships and permissions judgeMerge will need, so the caller fetches each once.
 * Whether something is looked up never depends on a looked-up answer, so this is exactly the set
 * judgeMerge reads (logins lower-cased, as the maps are keyed).
 */
export function lookupsNeeded(evidence: Omit<MergeEvidence, "teamMemberships" | "permissions" | "teams">): {
  teams: { org: string; slug: string; login: string }[];
  logins: string[];
  /** Teams of `require_owners` whose existence is asked. */
  existence: { org: string; slug: string }[];
} {
  const lookups = new Lookups(new Map(), new Map(), new Map());
  judge({ ...evidence, teamMemberships: new Map(), permissions: new Map(), teams: new Map() }, lookups);
  return { teams: lookups.teams(), logins: lookups.logins(), existence: lookups.existenceLookups() };
}

/** Records every membership and permission read, and answers from the prefetched maps. */
class Lookups {
  private readonly teamsRead = new Map<string, { org: string; slug: string; login: string }>();
  private readonly loginsRead = new Set<string>();
  private readonly existenceRead = new Map<string, { org: string; slug: string }>();

  constructor(
    private readonly memberships: ReadonlyMap<string, MembershipAnswer>,
    private readonly permissions: ReadonlyMap<string, RepoPermission>,
    private readonly existences: ReadonlyMap<string, ExistenceAnswer>,
  ) {}

  membership(org: string, slug: string, login: string): MembershipAnswer {
    const key = teamKey(org, slug, login);
    this.teamsRead.set(key, { org, slug, login: login.toLowerCase() });
    return this.memberships.get(key) ?? "none";
  }

  /** Whether a team exists; unknown (never asked) counts as unreadable, so nothing counts for it. */
  existence(org: string, slug: string): ExistenceAnswer {
    const key = teamExistenceKey(org, slug);
    this.existenceRead.set(key, { org, slug });
    return this.existences.get(key) ?? { unreadable: "it was not read" };
  }

  existenceLookups(): { org: string; slug: string }[] {
    return [...this.existenceRead.values()];
  }

  permission(login: string): RepoPermission | undefined {
    this.loginsRead.add(login.toLowerCase());
    return this.permissions.get(login.toLowerCase());
  }

  teamKeys(): string[] {
    return [...this.teamsRead.keys()];
  }

  teams(): { org: string; slug: string; login: string }[] {
    return [...this.teamsRead.values()];
  }

  logins(): string[] {
    return [...this.loginsRead];
  }
}

/** What a request file change asks for. */
type Change = { kind: "grant"; path: string; renamedFrom?: string } | { kind: "revoke"; path: string };

/** Who the access is for, and whether a rule let the requester ask on their behalf. */
interface Grantee {
  principal: string;
  onBehalf: boolean;
}

/** One set of owners that must supply `needed` approvals. */
interface Requirement {
  path: string;
  owners: CodeownersOwner[];
  needed: number;
  /** The old path of a rename: its owners must approve too. */
  oldPath: boolean;
  /** Set when GitHub could give the path to other owners than `owners`: nothing counts then. */
  ambiguity?: string;
  /** The deciding rule's `require_owners` teams (only on the request's own path), and the rule's index for messages. */
  groups: RequiredTeam[];
  ruleIndex?: number;
}

/** The PR-wide facts every file is judged against. */
interface Context {
  evidence: MergeEvidence;
  /** Undefined when the base config is missing or invalid (already a PR-level reason). */
  config?: TenantConfig;
  codeowners?: Codeowners;
  /** CODEOWNERS read whole (past jitsudo's rule cap) for removals, which follow GitHub's whole reading. */
  revokeCodeowners?: Codeowners;
  lookups: Lookups;
  reviewers: Reviewer[];
  setAside: SetAsideReview[];
  contributors: Map<string, Contribution>;
}

interface Contribution {
  authored: string[];
  committed: string[];
}

function judge(evidence: MergeEvidence, lookups: Lookups): Omit<MergeVerdict, "teamLookups"> {
  const changes = requestChanges(evidence.files);
  if (changes.length === 0 && isComplete(evidence)) return { approved: false, files: [], reasons: [NO_REQUEST_FILES], tenantAws: {} };
  // Another branch's CODEOWNERS are whoever controls that branch; without the true base, the policy
  // and code owners are unknown. Either way, judge nothing else.
  const branch = branchReasons(evidence);
  if (branch.length > 0) return { approved: false, files: [], reasons: branch, tenantAws: {} };
  if (!evidence.base.proven) return { approved: false, files: [], reasons: [evidence.base.reason], tenantAws: {} };
  const tooMany = tooManyRequestFiles(changes.length);
  if (tooMany) return { approved: false, files: [], reasons: [tooMany], tenantAws: {} };

  // What a judgement of part of the pull request would miss stops its grants.
  const incomplete = [
    ...messages(
      incompleteListBlockers(
        { files: evidence.files.length, commits: evidence.commits.length },
        { ...(evidence.changedFiles !== undefined ? { changedFiles: evidence.changedFiles } : {}), commits: evidence.commitCount },
      ),
    ),
    ...(evidence.timeline && !evidence.timeline.complete
      ? [
          "GitHub's timeline of this pull request is longer than jitsudo reads (1,000 reviews and events), so it cannot place every review before or after the merge",
        ]
      : []),
  ];
  const { config, reasons: grantOnly, codeowners } = governanceAtBase(evidence);
  const { reviewers, setAside } = standingReviews(evidence.reviews, evidence.timeline, evidence.pr.mergedAt);
  const context: Context = {
    evidence,
    ...(config ? { config } : {}),
    ...(codeowners ? { codeowners } : {}),
    ...revokeCodeowners(codeowners, evidence, changes),
    lookups,
    reviewers,
    setAside,
    contributors: contributorsOf(evidence.commits),
  };
  const files = changes.map((change) => (change.kind === "grant" ? judgeGrant(change, context) : judgeRevoke(change.path, context)));
  // Revoking is the safe direction: a problem with the policy or CODEOWNERS that must stop a grant
  // (even one the requester could cause, like an owner who lost access) never keeps access alive.
  const hasGrants = changes.some((change) => change.kind === "grant");
  // Only removals: nothing stops them but their own approval. No change seen at all (a list cut
  // short): what was not seen stops the merge.
  const reasons = hasGrants ? [...incomplete, ...grantOnly] : changes.length > 0 ? [] : incomplete;
  const approved = reasons.length === 0 && files.every((file) => file.approved);
  return { approved, files, reasons, tenantAws: context.config?.aws ?? {}, baseSha: evidence.base.baseSha };
}

/** For removals, when jitsudo's reading stopped at its cap: the whole file, as GitHub reads it. */
function revokeCodeowners(
  codeowners: Codeowners | undefined,
  evidence: MergeEvidence,
  changes: readonly Change[],
): { revokeCodeowners?: Codeowners } {
  if (!codeowners?.truncated || !changes.some((change) => change.kind === "revoke")) return {};
  const whole = wholeCodeowners(evidence.codeownersFiles);
  return whole ? { revokeCodeowners: whole } : {};
}

/** The policy and CODEOWNERS at the base, and every PR-level reason that stops a grant. */
function governanceAtBase(evidence: MergeEvidence): { config?: TenantConfig; codeowners?: Codeowners; reasons: string[] } {
  const { config, policyBlocker, configProblems, codeowners, codeownersBlockers } = governanceOf(evidence);
  const reasons = [...governanceReasons(evidence.files), ...messages(governanceCommitBlockers(evidence.governanceChanges))];
  if (policyBlocker) reasons.push(policyBlocker.message);
  reasons.push(...configProblems.map((problem) => `${TENANT_CONFIG_PATH} line ${problem.line}: ${problem.message}`));
  reasons.push(...messages(codeownersBlockers));
  reasons.push(...unlinkedCommitReasons(evidence));
  if (!policyBlocker) reasons.push(...credentialReasons(config, evidence));
  return { ...(policyBlocker ? {} : { config }), ...(codeowners ? { codeowners } : {}), reasons };
}

/** GitHub's lists stop at 3,000 files and 250 commits: a verdict on part of a PR is no verdict. */
function isComplete({ files, changedFiles, commits, commitCount }: MergeEvidence): boolean {
  return changedFiles !== undefined && files.length >= changedFiles && commits.length >= commitCount;
}

const messages = (blockers: readonly Blocker[]) => blockers.map((blocker) => blocker.message);

/** jitsudo's own AWS identity acts only for repositories the operator listed. */
function credentialReasons(config: TenantConfig, evidence: MergeEvidence): string[] {
  if (config.aws.roleArn) return [];
  if (!evidence.repositoryListed) {
    return [
      `${TENANT_CONFIG_PATH} names no aws.role_arn, and jitsudo's own AWS credentials serve only the repositories listed in JITSUDO_ACCESS_REPOSITORIES; set aws.role_arn to a role whose trust policy names this repository, or ask the operator to list it`,
    ];
  }
  const instance = config.aws.instanceArn;
  if (instance !== undefined && evidence.ownInstanceArn !== undefined && instance !== evidence.ownInstanceArn) {
    return [
      `${TENANT_CONFIG_PATH} names no aws.role_arn and an Identity Center instance other than the deployment's; jitsudo's own AWS credentials act only on the deployment's instance (IC_INSTANCE_ARN): set aws.role_arn to a role whose trust policy names this repository`,
    ];
  }
  return [];
}

/** Request files the PR adds, changes, deletes or renames, in the PR's order. */
function requestChanges(files: readonly PullFile[]): Change[] {
  const changes: Change[] = [];
  for (const file of files) {
    if (file.status !== "removed" && isRequestFilePath(file.path)) {
      const renamedFrom =
        file.status === "renamed" && file.previousPath && isRequestFilePath(file.previousPath) ? file.previousPath : undefined;
      changes.push({ kind: "grant", path: file.path, ...(renamedFrom ? { renamedFrom } : {}) });
    }
    // A copy leaves its source in place, so only a deletion or a rename ends the old file's grant.
    const removed = file.status === "removed" ? file.path : file.status === "renamed" ? file.previousPath : undefined;
    if (removed && isRequestFilePath(removed)) changes.push({ kind: "revoke", path: removed });
  }
  return changes;
}

function branchReasons({ pr, defaultBranch }: MergeEvidence): string[] {
  if (pr.baseRef === defaultBranch) return [];
  // Whoever controls another branch controls its CODEOWNERS and policy.
  return [
    `this pull request was merged into ${pr.baseRef}, not the default branch ${defaultBranch}; only merges into ${defaultBranch} grant or revoke access`,
  ];
}

function governanceReasons(files: readonly PullFile[]): string[] {
  const touched = new Set(
    files.flatMap((file) => [file.path, file.previousPath]).filter((path): path is string => path !== undefined && isGovernancePath(path)),
  );
  return [...touched].map(
    (path) =>
      `this pull request also changes ${path}; changes to code owners or policy must be merged in their own pull request, so this one grants nothing`,
  );
}

function unlinkedCommitReasons({ commits }: MergeEvidence): string[] {
  return commits.flatMap((commit) => {
    const unlinked = [commit.authorLogin === undefined ? "author" : "", commit.committerLogin === undefined ? "committer" : ""].filter(
      Boolean,
    );
    if (unlinked.length === 0) return [];
    const who = unlinked.length === 2 ? "author and committer are" : `${unlinked[0]} is`;
    return [`commit ${short(commit.sha)}'s ${who} not linked to a GitHub account, so jitsudo cannot tell whether an approver wrote it`];
  });
}

/** Commit authors and committers, keyed by GitHub user id when GitHub linked one (logins can be renamed). */
function contributorsOf(commits: readonly PullCommit[]): Map<string, Contribution> {
  const contributors = new Map<string, Contribution>();
  const entry = (key: string) => {
    const found = contributors.get(key) ?? { authored: [], committed: [] };
    contributors.set(key, found);
    return found;
  };
  for (const commit of commits) {
    if (commit.authorLogin !== undefined)
      for (const key of personKeys(commit.authorLogin, commit.authorId)) entry(key).authored.push(short(commit.sha));
    if (commit.committerLogin !== undefined)
      for (const key of personKeys(commit.committerLogin, commit.committerId)) entry(key).committed.push(short(commit.sha));
  }
  return contributors;
}

/** The keys a person is known by: their id when GitHub gave it, and their login either way. */
function personKeys(login: string, id: number | undefined): string[] {
  return id === undefined ? [`login:${login.toLowerCase()}`] : [`id:${id}`, `login:${login.toLowerCase()}`];
}

function judgeGrant(change: Extract<Change, { kind: "grant" }>, context: Context): FileVerdict {
  const { evidence } = context;
  const merged = evidence.atMerge.get(change.path) ?? { kind: "missing" as const };
  const review = reviewMerged(change.path, merged, context);
  const rule = review.decision?.rule;
  const needed = rule?.approvals ?? 1; // the rulebook's default when no rule decides
  const requirements = [requirement(change.path, needed, false, context, rule)];
  if (change.renamedFrom) requirements.push(requirement(change.renamedFrom, needed, true, context));

  const decision = review.decision;
  // The grantee may not approve; on someone else's behalf (a rule that allows it), approvers must be known users.
  const grantee =
    decision?.principal === undefined
      ? undefined
      : { principal: decision.principal, onBehalf: decision.rule?.allowOtherPrincipal === true };
  const counted = countApprovals(requirements, grantee, context);
  // Judged whenever the request asks for it, so the memberships it reads never depend on an answer.
  const breakGlass = judgeBreakGlass(review, change, requirements, context);
  // Break-glass stands in for the code owners only when they did not approve enough.
  const byBreakGlass = breakGlass !== undefined && counted.reasons.length > 0 && breakGlass.reasons.length === 0;
  const approvalReasons = counted.reasons.length > 0 && breakGlass ? [...counted.reasons, ...breakGlass.reasons] : counted.reasons;
  const pathProblem = requestPathProblem(change.path);
  const reasons = [
    ...(pathProblem ? [pathProblem] : []),
    ...review.problems.filter((problem) => problem.severity === "error").map((problem) => `line ${problem.line}: ${problem.message}`),
    ...sameContentReasons(merged, evidence.atHead.get(change.path) ?? { kind: "missing" }, evidence),
    ...(byBreakGlass ? [] : approvalReasons),
  ];
  const blobSha = "blobSha" in merged ? merged.blobSha : undefined;
  return {
    path: change.path,
    kind: "grant",
    approved: reasons.length === 0,
    review,
    requiredApprovals: needed,
    approvers: counted.approvers,
    approverSets: counted.approverSets,
    ...(byBreakGlass && breakGlass.team
      ? {
          breakGlass: {
            team: breakGlass.team,
            reviewWithinMs: breakGlass.reviewWithinMs,
            // Who reviews it after the merge, and whom its comment calls: the path's owners at the base.
            owners: [...new Set(requirements.flatMap((owned) => owned.owners.filter((owner) => owner.kind !== "email").map(formatOwner)))],
          },
        }
      : {}),
    ...(blobSha ? { blobSha } : {}),
    ...(review.parsed ? { window: accessWindow(review.parsed, evidence.now) } : {}),
    reasons,
  };
}

/**
 * A request with `break_glass: true` under a rule that allows it (the policy already checked the
 * ticket, the duration, the principal and the start): may the requester break the glass? Only an
 * ACTIVE member of one of the rule's teams (a pending invitation is not membership), and only for
 * a pull request whose every commit they wrote: otherwise anyone who can push to their branch
 * could choose what the requester is granted without any owner's approval. Undefined when the
 * request does not ask for break-glass under such a rule.
 */
function judgeBreakGlass(
  review: RequestReview,
  change: Extract<Change, { kind: "grant" }>,
  requirements: readonly Requirement[],
  context: Context,
): { team?: string; reviewWithinMs: number; reasons: string[] } | undefined {
  const rule = review.decision?.rule;
  if (review.parsed?.request.break_glass !== true || !rule?.breakGlass) return undefined;
  const { pr, commits } = context.evidence;
  const added = context.evidence.files.find((file) => file.path === change.path)?.status === "added";
  const reviewable = requirements.every((owned) => !owned.ambiguity && owned.owners.some((owner) => owner.kind !== "email"));
  // Every team is read (no early exit), so which lookups happen never depends on their answers.
  const states = rule.breakGlass.teams.map(({ org, slug }) => ({
    team: `@${org}/${slug}`,
    state: context.lookups.membership(org, slug, pr.authorLogin),
  }));
  const active = states.find(({ state }) => state === "active");
  const reasons: string[] = [];
  if (!active) {
    const pending = states.filter(({ state }) => state === "pending").map(({ team }) => team);
    const unreadable = states.flatMap(({ team, state }) => (isUnreadable(state) ? [`${team} (${state.unreadable})`] : []));
    const why = [
      ...(pending.length > 0 ? [`their membership of ${pending.join(", ")} is pending`] : []),
      ...(unreadable.length > 0 ? [`GitHub did not say whether they are a member of ${unreadable.join(", ")}`] : []),
    ];
    reasons.push(
      `break-glass under rules[${rule.index}] is only for active members of ${states.map(({ team }) => team).join(", ")}, and @${pr.authorLogin} is not one${why.length > 0 ? ` (${why.join("; ")})` : ""}`,
    );
  }
  const requester = { login: pr.authorLogin, ...(pr.authorId !== undefined ? { userId: pr.authorId } : {}) };
  const foreign = commits.filter(
    (commit) =>
      commit.authorLogin === undefined ||
      !samePerson(
        { login: commit.authorLogin, ...(commit.authorId !== undefined ? { userId: commit.authorId } : {}) },
        requester.login,
        requester.userId,
      ),
  );
  if (foreign.length > 0) {
    reasons.push(
      `break-glass needs every commit of the pull request to be the requester's own, and ${foreign.map((commit) => `${short(commit.sha)} (by ${commit.authorLogin === undefined ? "an unlinked author" : `@${commit.authorLogin}`})`).join(", ")} is not`,
    );
  }
  reasons.push(...pushReasons(context.evidence.headPushers, pr.authorLogin));
  // Only a new file: an edit or rename would end another grant of that file without any approval.
  if (!added) reasons.push("break-glass is only for a new request file; an edited or renamed request file needs its code owners' approval");
  // Someone must be able to review it afterwards.
  if (!reviewable)
    reasons.push(
      `break-glass needs a code owner who can review it after the merge, and ${change.path} has none that jitsudo can count (no owner, owners by e-mail only, or an ambiguous CODEOWNERS reading)`,
    );
  return { ...(active ? { team: active.team } : {}), reviewWithinMs: rule.breakGlass.reviewWithinMs, reasons };
}

/**
 * Every push to the pull request's branch must be the requester's: commit authors and committers are
 * whatever a commit's e-mail says (anyone can write a commit "by" the requester), a push is GitHub's
 * own record of who made it. Without that record, break-glass is refused.
 */
function pushReasons(pushers: BranchPushers | undefined, requester: string): string[] {
  if (!pushers || pushers.kind === "unavailable")
    return [
      `break-glass needs GitHub's record of who pushed to the pull request's branch, and ${pushers ? pushers.reason : "it could not be read"}`,
    ];
  const others = [
    ...new Set(
      pushers.actors
        .filter((actor) => actor === null || !sameLogin(actor, requester))
        .map((actor) => (actor === null ? "an unknown account" : `@${actor}`)),
    ),
  ];
  const reasons: string[] = [];
  if (pushers.actors.length === 0)
    reasons.push("break-glass needs GitHub's record of who pushed to the pull request's branch, and GitHub has none");
  if (others.length > 0)
    reasons.push(
      `break-glass needs every push to the pull request's branch to be the requester's, and GitHub records pushes by ${others.join(", ")}`,
    );
  if (!pushers.complete)
    reasons.push("the pull request's branch has more pushes than jitsudo reads (500), so it cannot show they are all the requester's");
  return reasons;
}

/**
 * A deleted (or renamed-away) request file: its live grant ends early, with one approval from an
 * owner of the path under any reading of CODEOWNERS. Revoking is the safe direction, so nothing
 * that stops a grant stops it: not an ambiguous or erroneous CODEOWNERS, an invalid policy, nor a
 * pull request too large or too long to see whole (which anyone who can comment could cause).
 */
function judgeRevoke(path: string, context: Context): FileVerdict {
  const codeowners = context.revokeCodeowners ?? context.codeowners;
  const owners = codeowners ? ownersUnderAnyReading(codeowners, path) : [];
  // Ending access needs no particular team: require_owners is for granting.
  const counted = countApprovals([{ path, owners, needed: REVOKE_APPROVALS, oldPath: false, groups: [] }], undefined, context);
  return {
    path,
    kind: "revoke",
    approved: counted.reasons.length === 0,
    requiredApprovals: REVOKE_APPROVALS,
    approvers: counted.approvers,
    approverSets: counted.approverSets,
    reasons: counted.reasons,
  };
}

/** The merged bytes validated against the base policy, as the PR check did on the head. */
function reviewMerged(path: string, merged: FileBytes, context: Context): RequestReview {
  const { evidence } = context;
  if (merged.kind !== "file")
    return {
      file: path,
      valid: false,
      problems: [unreadableRequest(path, merged, `file is not in the merge commit ${short(evidence.pr.mergeCommitSha)}`)],
    };
  // With an unusable base config (a PR-level reason), check the file on its own rather than
  // blaming it for the config's "no rules".
  const review =
    evidence.validated?.get(path) ??
    validateRequest(path, merged.bytes, {
      ...(context.config ? { config: context.config } : {}),
      requester: evidence.pr.authorLogin,
      now: evidence.now,
    });
  return { ...review, problems: [...review.problems].sort(byPosition) };
}

/** Approvals cover the bytes approved: the merge must carry exactly the approved head's blob. */
function sameContentReasons(merged: FileBytes, head: FileBytes, { pr }: MergeEvidence): string[] {
  const mergedBlob = "blobSha" in merged ? merged.blobSha : undefined;
  if (mergedBlob === undefined) return []; // unreadable at the merge: already a reason
  const headBlob = "blobSha" in head ? head.blobSha : undefined;
  if (headBlob === mergedBlob) return [];
  const atHead = headBlob === undefined ? `no such file at ${short(pr.headSha)}` : `blob ${short(headBlob)} at ${short(pr.headSha)}`;
  return [
    `content at the merge commit differs from the approved head (blob ${short(mergedBlob)} at ${short(pr.mergeCommitSha)}, ${atHead}); approvals only cover the content they approved`,
  ];
}

/** What one set of owners must approve; `rule` (the deciding one, for the request's own path only) adds its `require_owners`. */
function requirement(
  path: string,
  needed: number,
  oldPath: boolean,
  context: Context,
  rule?: { index: number; requireOwners: readonly TeamRef[] },
): Requirement {
  // Every team's existence is read whatever else is known, so the lookups never depend on an answer.
  const groups = (rule?.requireOwners ?? []).map((team) => ({ team, existence: context.lookups.existence(team.org, team.slug) }));
  const ofRule = { groups, ...(rule ? { ruleIndex: rule.index } : {}) };
  if (!context.codeowners) return { path, owners: [], needed, oldPath, ...ofRule };
  const owned = ownership(context.codeowners, path);
  return {
    path,
    owners: owned.owners,
    needed,
    oldPath,
    ...(owned.ambiguity ? { ambiguity: owned.ambiguity.message } : {}),
    ...ofRule,
  };
}

/** Where one approving reviewer stands against one requirement. */
interface Ownership {
  owns: boolean;
  /** Teams owning the path of which the reviewer is a pending (not yet accepted) member. */
  pendingTeams: string[];
  /** Teams owning the path whose membership GitHub did not answer for the reviewer, with why. */
  unreadableTeams: { team: string; why: string }[];
}

interface Assessment {
  login: string;
  /** Why their review cannot count, whatever the owners (identity, staleness, withdrawal). */
  excluded?: string;
  /** Set when the reviewer may own a path, so their permission was read. */
  permission?: RepoPermission | "unknown";
  ownership: Ownership[];
  /** Their membership of each `require_owners` team (keyed by `teamKey`), read when they may own a path. */
  groupMemberships: Map<string, MembershipAnswer>;
}

function countApprovals(
  requirements: Requirement[],
  grantee: Grantee | undefined,
  context: Context,
): { approvers: string[]; approverSets: ApproverSet[]; reasons: string[] } {
  const assessments = context.reviewers.map((reviewer) => assess(reviewer, requirements, grantee, context));
  const countedBy = requirements.map((_, index) =>
    assessments
      .filter((assessment) => counts(assessment) && assessment.ownership[index]!.owns)
      .map((assessment) => assessment.login)
      .sort(),
  );
  const approvers = [...new Set(countedBy.flat())].sort();
  const byLogin = new Map(assessments.map((assessment) => [assessment.login.toLowerCase(), assessment]));
  const membership = (team: TeamRef, login: string): MembershipAnswer =>
    byLogin.get(login.toLowerCase())?.groupMemberships.get(teamKey(team.org, team.slug, login)) ?? "none";
  const groupsOf = requirements.map((requirement, index) =>
    requirement.groups.length === 0
      ? undefined
      : judgeOwnerGroups(requirement.groups, countedBy[index]!, membership, requirement.ruleIndex ?? 0),
  );
  const approverSets = requirements.map((requirement, index) => {
    const groups = groupsOf[index]?.groups;
    return { path: requirement.path, approvers: countedBy[index]!, ...(groups ? { groups } : {}) };
  });
  // An ambiguous reading of CODEOWNERS may hand the path to other owners: no approval is certain.
  const ambiguous = requirements.flatMap((requirement) => (requirement.ambiguity ? [requirement.ambiguity] : []));
  const short = (index: number) => countedBy[index]!.length < requirements[index]!.needed;
  const unmet = requirements.flatMap((_, index) => (short(index) || (groupsOf[index]?.reasons.length ?? 0) > 0 ? [index] : []));
  if (unmet.length === 0) return { approvers, approverSets, reasons: ambiguous };

  const reasons: string[] = [...ambiguous];
  for (const index of unmet) {
    if (short(index)) reasons.push(...shortfallReasons(requirements[index]!, countedBy[index]!, context));
    reasons.push(...(groupsOf[index]?.reasons ?? []));
  }
  for (const assessment of assessments) reasons.push(...assessmentReasons(assessment, requirements, unmet));
  for (const index of unmet) reasons.push(...emailOwnerReasons(requirements[index]!, context));
  reasons.push(...context.setAside.map(setAsideReason));
  return { approvers, approverSets, reasons };
}

function counts(assessment: Assessment): boolean {
  return (
    assessment.excluded === undefined &&
    assessment.permission !== undefined &&
    assessment.permission !== "unknown" &&
    WRITE_ACCESS.has(assessment.permission)
  );
}

function assess(reviewer: Reviewer, requirements: Requirement[], grantee: Grantee | undefined, context: Context): Assessment {
  const notOwner: Ownership[] = requirements.map(() => ({ owns: false, pendingTeams: [], unreadableTeams: [] }));
  const excluded = exclusion(reviewer, grantee, context);
  if (excluded !== undefined) return { login: reviewer.login, excluded, ownership: notOwner, groupMemberships: new Map() };
  const { login } = reviewer;
  // Only someone who might own a path needs their permission read; decided without any lookup,
  // so lookupsNeeded asks for exactly what this reads.
  const mayOwn = requirements.some((requirement) => requirement.owners.some((owner) => owner.kind === "team" || namesUser(owner, login)));
  if (!mayOwn) return { login, ownership: notOwner, groupMemberships: new Map() };
  const permission = context.lookups.permission(login) ?? "unknown";
  // Every require_owners team is read for everyone who may count, whatever their other answers.
  const groupMemberships = new Map(
    requirements.flatMap((requirement) =>
      requirement.groups.map(
        ({ team }) => [teamKey(team.org, team.slug, login), context.lookups.membership(team.org, team.slug, login)] as const,
      ),
    ),
  );
  return {
    login,
    permission,
    ownership: requirements.map((requirement) => ownershipOf(login, requirement.owners, context.lookups)),
    groupMemberships,
  };
}

/** Why a reviewer's stand cannot count for this file; undefined when their approval is eligible. */
function exclusion(reviewer: Reviewer, grantee: Grantee | undefined, context: Context): string | undefined {
  const { login, decisive } = reviewer;
  const { pr } = context.evidence;
  if (decisive.state === "CHANGES_REQUESTED") {
    return reviewer.approvedBefore
      ? `@${login} requested changes after approving, which withdraws the approval`
      : `@${login} requested changes`;
  }
  if (decisive.state === "DISMISSED") return `@${login}'s latest review was dismissed, so it does not count`;
  if (samePerson(reviewer, pr.authorLogin, pr.authorId)) return `@${login} is the requester and cannot approve their own request`;
  const granteeReason = granteeExclusion(login, grantee, context);
  if (granteeReason) return granteeReason;
  const contribution = contributionOf(reviewer, context);
  if (contribution.authored.length > 0) return `@${login} ${commitsPhrase("authored", contribution.authored)}`;
  if (contribution.committed.length > 0) return `@${login} ${commitsPhrase("committed", contribution.committed)}`;
  if (decisive.commitId === null) return `@${login} approved a commit GitHub no longer has, not the merged head ${short(pr.headSha)}`;
  if (decisive.commitId !== pr.headSha) return `@${login} approved ${short(decisive.commitId)}, not the merged head ${short(pr.headSha)}`;
  if (reviewer.beforeBaseChange) {
    return `@${login} approved before the pull request's base last changed (${reviewer.beforeBaseChange.toISOString()}), when it showed a different diff; approvals count only when given after the last base change`;
  }
  return undefined;
}

/**
 * The grantee never approves their own access. Their Identity Center user is compared by name here
 * and by id in the worker before anything is created. For a request on someone else's behalf, an
 * approver must be mapped under `users:`: an unmapped login stands for a user named like the login,
 * which says nothing about who the approver really is in Identity Center.
 */
function granteeExclusion(login: string, grantee: Grantee | undefined, context: Context): string | undefined {
  const { config } = context;
  if (grantee === undefined || !config) return undefined;
  const { principal } = grantee;
  if (principalFor(config, login).toLowerCase() === principal.toLowerCase())
    return `@${login} is the grantee (${principal}) and cannot approve access for themselves`;
  const onBehalf = grantee.onBehalf && principalFor(config, context.evidence.pr.authorLogin).toLowerCase() !== principal.toLowerCase();
  if (onBehalf && !config.users.has(login.toLowerCase())) {
    return `@${login} is not mapped to an Identity Center user under users: in ${TENANT_CONFIG_PATH}, so for a request on someone else's behalf jitsudo cannot show they are not the grantee`;
  }
  return undefined;
}

function contributionOf(reviewer: Reviewer, context: Context): Contribution {
  const keys = personKeys(reviewer.login, reviewer.userId);
  const found = keys.map((key) => context.contributors.get(key)).filter((entry): entry is Contribution => entry !== undefined);
  return { authored: found.flatMap((entry) => entry.authored), committed: found.flatMap((entry) => entry.committed) };
}

/** The same GitHub account: by id when both are known (logins can be renamed and reused), else by login. */
function samePerson(reviewer: Pick<Reviewer, "login" | "userId">, login: string, id: number | undefined): boolean {
  if (reviewer.userId !== undefined && id !== undefined) return reviewer.userId === id;
  return sameLogin(reviewer.login, login);
}

function commitsPhrase(verb: string, shas: string[]): string {
  const distinct = [...new Set(shas)];
  return `${verb} ${distinct.length === 1 ? "a commit" : "commits"} in this pull request (${distinct.join(", ")})`;
}

/** A user owner by login (case-insensitive), or an ACTIVE member of a team owner. E-mail owners never count. */
function ownershipOf(login: string, owners: CodeownersOwner[], lookups: Lookups): Ownership {
  if (owners.some((owner) => namesUser(owner, login))) return { owns: true, pendingTeams: [], unreadableTeams: [] };
  // Every team is read (no early exit), so which lookups happen never depends on their answers.
  const states = owners.flatMap((owner) =>
    owner.kind === "team" ? [{ team: formatOwner(owner), state: lookups.membership(owner.org, owner.slug, login) }] : [],
  );
  return {
    owns: states.some(({ state }) => state === "active"),
    pendingTeams: states.filter(({ state }) => state === "pending").map(({ team }) => team),
    unreadableTeams: states.flatMap(({ team, state }) => (isUnreadable(state) ? [{ team, why: state.unreadable }] : [])),
  };
}

function shortfallReasons(requirement: Requirement, counted: string[], context: Context): string[] {
  const { needed, path } = requirement;
  const has = `has ${counted.length}${counted.length > 0 ? ` (${counted.map((login) => `@${login}`).join(", ")})` : ""}`;
  const approvals = `${needed} ${needed === 1 ? "approval" : "approvals"}`;
  const reasons = [
    requirement.oldPath
      ? `renamed from ${path}, so it also needs ${approvals} from the code owners of ${path}; ${has}`
      : `needs ${needed} code-owner ${needed === 1 ? "approval" : "approvals"}, ${has}`,
  ];
  const { codeowners } = context;
  if (codeowners && requirement.owners.length === 0)
    reasons.push(`${path} has no code owners in ${codeowners.path}, so nobody can approve it`);
  return reasons;
}

/** Why each reviewer did not count, for the requirements still short. */
function assessmentReasons(assessment: Assessment, requirements: Requirement[], unmet: number[]): string[] {
  const { login, excluded, permission, ownership } = assessment;
  if (excluded !== undefined) return [excluded];
  const reasons: string[] = [];
  if (permission !== undefined && !counts(assessment) && ownership.some((owned) => owned.owns)) {
    reasons.push(
      permission === "unknown"
        ? `@${login}'s permission on the repository is unknown; approvers need write`
        : `@${login} has ${permission === "none" ? "no" : permission} permission on the repository; approvers need write`,
    );
  }
  for (const index of unmet) {
    const requirement = requirements[index]!;
    const owned = ownership[index]!;
    // Unowned paths already say nobody can approve them; naming each reviewer adds nothing.
    if (owned.owns || !requirement.owners.some((owner) => owner.kind !== "email")) continue;
    reasons.push(...owned.pendingTeams.map((team) => `@${login}'s membership of ${team} is pending`));
    reasons.push(
      ...owned.unreadableTeams.map(
        ({ team, why }) => `jitsudo could not read whether @${login} is a member of ${team}: ${why}; so their approval does not count`,
      ),
    );
    if (owned.pendingTeams.length === 0 && owned.unreadableTeams.length === 0)
      reasons.push(`@${login} is not a code owner of ${requirement.path}`);
  }
  return reasons;
}

/** E-mail owners never count; say so, since they may have looked like a way to approve. */
function emailOwnerReasons(requirement: Requirement, context: Context): string[] {
  const emails = requirement.owners
    .filter((owner) => owner.kind === "email")
    .map(formatOwner)
    .join(", ");
  if (emails === "") return [];
  const where = context.codeowners?.path ?? "CODEOWNERS";
  return requirement.owners.every((owner) => owner.kind === "email")
    ? [
        `${requirement.path} is owned only by e-mail address (${emails}) in ${where}, and GitHub does not say which account owns an address, so nobody can approve it; list owners as @user or @org/team`,
      ]
    : [
        `code owners of ${requirement.path} listed by e-mail address (${emails}) cannot approve: GitHub does not say which account owns an address; list them as @user or @org/team`,
      ];
}

/** GitHub logins are case-insensitive. */
function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

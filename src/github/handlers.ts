/**
 * Probot event handlers: each one only translates a webhook into a call of the use case with a
 * gateway for the event's repository. No decisions are made here.
 */
import { reviewBreakGlass } from "./break-glass-review.js";
import type { Metrics } from "../observability/metrics.js";
import type { Context, Probot } from "probot";
import type { Knex } from "knex";
import type { KeyedLock } from "../db/locks.js";
import { cachedAppIdentity } from "./app-identity.js";
import { CHECK_NAME } from "./check-run.js";
import { reportDirectPush } from "./direct-push.js";
import { syncTenantConfig } from "./tenant-config-sync.js";
import { pullRequestKey } from "./gateway.js";
import type { PullRequestInfo } from "./types.js";
import { OctokitGateway, toPullRequestInfo } from "./octokit-gateway.js";
import { reportNotAccessRepository } from "./not-access-repository.js";
import type { BackgroundWork } from "./background-work.js";
import { mergeInfoOf, processMerge } from "./process-merge.js";
import type { AccessRepositories } from "../config/access-repositories.js";
import { handleCommentCommand, parseCommand } from "./revoke-command.js";
import { validatePullRequest } from "./validate-pull-request.js";
import { enqueueRequestWaiting } from "../notifications/outbox.js";
import { recentSessionDurations } from "../grants/session-durations.js";
import type { TenantConfig } from "../config/tenant.js";
import { waitingRequestsOf } from "../notifications/waiting.js";
import { HANDLED_EVENTS, MERGE_FOUND, type MergeFoundPayload } from "../inbox/events.js";

export interface HandlerDeps {
  now: () => Date;
  /** JITSUDO_ACCESS_REPOSITORIES, pinned by repository id: every other repository is not an access repository. */
  access: AccessRepositories;
  /** Where merges are recorded; without it the app only validates pull requests. */
  db?: Knex;
  /**
   * Serialises work on one pull request when events are handled as they arrive (the
   * validation-only server). With a database, the webhook inbox orders them instead.
   */
  pullRequestLock?: KeyedLock;
  /** Where verdict comments go once the verdict is recorded, so a delivery never waits for GitHub's comment pacing. */
  background?: BackgroundWork;
  metrics?: Metrics;
}

type RepoContext = Context<"pull_request" | "pull_request_review" | "check_run" | "issue_comment" | "push">;

type Handler = (context: Context) => Promise<void>;

type HandledEvent = (typeof HANDLED_EVENTS)[number];

/** Registers one handler under each of the given `name.action` keys. */
type On = <E extends HandledEvent>(names: readonly E[], handle: (context: Context<E>) => Promise<void>) => void;

/**
 * The handler of every event jitsudo acts on. Each translates the event into a call of its use
 * case with a gateway for the event's repository; no decisions are made here.
 */
export function eventHandlers(app: Pick<Probot, "auth">, deps: HandlerDeps): Map<string, Handler> {
  const kit = handlerKit(app, deps);
  const handlers = new Map<string, Handler>();
  const on: On = (names, handle) => {
    for (const name of names) handlers.set(name, handle);
  };

  onPullRequestChanged(on, kit);

  const { db } = deps;
  if (!db) return handlers;

  onMerged(on, kit, db);
  onCommentCommand(on, kit, db);
  onReviewAfterMerge(on, kit, db);
  handlers.set(MERGE_FOUND, mergeFoundHandler(kit, db));
  onPushToDefaultBranch(on, kit, db);

  return handlers;
}

/** What every handler shares: the app's identity, a gateway per repository, the pull request lock, the access decision. */
interface HandlerKit {
  deps: HandlerDeps;
  identity: ReturnType<typeof cachedAppIdentity>;
  gatewayFor: (context: RepoContext) => OctokitGateway;
  locked: <T>(context: RepoContext, pullNumber: number, work: () => Promise<T>) => Promise<T>;
  isAccess: (context: RepoContext) => Promise<boolean>;
  validate: (context: Context<"pull_request" | "check_run">, gateway: OctokitGateway, pull: PullRequestInfo) => Promise<unknown>;
}

function handlerKit(app: Pick<Probot, "auth">, deps: HandlerDeps): HandlerKit {
  const identity = cachedAppIdentity(() => app.auth());
  const botLogin = async () => (await identity()).botLogin;
  const gatewayFor = (context: RepoContext) => {
    const { owner, repo } = context.repo();
    return new OctokitGateway(context.octokit, owner, repo, botLogin);
  };
  const locked = <T>(context: RepoContext, pullNumber: number, work: () => Promise<T>) =>
    deps.pullRequestLock ? deps.pullRequestLock.run(pullRequestKey(context.payload.repository.id, pullNumber), work) : work();
  const accessOf = (context: RepoContext) =>
    deps.access.decide({ id: context.payload.repository.id, fullName: context.payload.repository.full_name });
  const isAccess = async (context: RepoContext) => (await accessOf(context)).allowed;
  const validate = async (context: Context<"pull_request" | "check_run">, gateway: OctokitGateway, pull: PullRequestInfo) => {
    const decision = await accessOf(context);
    if (!decision.allowed) return reportNotAccessRepository(gateway, pull, decision.reason);
    const { repository } = context.payload;
    const installation = (context.payload as { installation?: { id: number } }).installation;
    // Notifications: a request that passed its check waits for approval (once per head commit).
    const onPassed =
      deps.db && installation
        ? async (review: Parameters<typeof waitingRequestsOf>[0]) => {
            const requests = waitingRequestsOf(review);
            if (requests.length === 0) return;
            const target = { tenant: installation.id, repositoryId: repository.id, repo: repository.full_name, prNumber: pull.number };
            await enqueueRequestWaiting(deps.db!, { ...target, headSha: pull.headSha, author: pull.authorLogin, requests });
          }
        : undefined;
    const sessionDurations = deps.db ? sessionDurationsFor(deps.db, repository.id, deps) : undefined;
    return locked(context, pull.number, () =>
      validatePullRequest(gateway, pull, context.payload.repository.default_branch, {
        now: deps.now,
        log: context.log,
        ...(onPassed ? { onPassed } : {}),
        ...(sessionDurations ? { sessionDurations } : {}),
      }),
    );
  };
  return { deps, identity, gatewayFor, locked, isAccess, validate };
}

/** Options of processMerge, the same for a merge's webhook and for one the catch-up scan found. */
function mergeOptions(kit: HandlerKit, db: Knex, log: Context["log"]) {
  return {
    db,
    now: kit.deps.now,
    log,
    access: kit.deps.access,
    ...(kit.deps.background ? { background: kit.deps.background } : {}),
    ...(kit.deps.metrics ? { metrics: kit.deps.metrics } : {}),
  };
}

/** Open pull requests are validated whenever what they would grant, or where, may have changed. */
function onPullRequestChanged(on: On, { identity, gatewayFor, validate }: HandlerKit): void {
  on(["pull_request.opened", "pull_request.synchronize", "pull_request.reopened", "pull_request.ready_for_review"], async (context) => {
    await validate(context, gatewayFor(context), toPullRequestInfo(context.payload.pull_request));
  });

  // A PR retargeted to another base branch must be judged again: only the default branch grants.
  on(["pull_request.edited"], async (context) => {
    if (!context.payload.changes.base) return;
    await validate(context, gatewayFor(context), toPullRequestInfo(context.payload.pull_request));
  });

  on(["check_run.rerequested"], async (context) => {
    const { check_run: run } = context.payload;
    // Only our own check: another app's run of the same name is not ours to answer.
    if (run.name !== CHECK_NAME || run.app?.id !== (await identity()).id) return;
    const gateway = gatewayFor(context);
    // Fresh PR data (author, current head): the payload's copy is only a summary, and forks' runs list none.
    const pulls =
      run.pull_requests.length > 0
        ? await Promise.all(run.pull_requests.map((pull) => gateway.getPullRequest(pull.number)))
        : await gateway.pullRequestsForCommit(run.head_sha);
    for (const pull of pulls.filter((candidate) => candidate.state === "open" && candidate.headSha === run.head_sha)) {
      await validate(context, gateway, pull);
    }
  });
}

// The merge is the approval: judge it from GitHub's data now, record it once.
function onMerged(on: On, kit: HandlerKit, db: Knex): void {
  on(["pull_request.closed"], async (context) => {
    const { pull_request: pull, repository, installation } = context.payload;
    if (!pull.merged) return;
    if (!installation) {
      context.log.error({ pr: pull.number }, "merge webhook without an installation: cannot tell whose grant it would be");
      return;
    }
    if (!(await kit.isAccess(context))) {
      context.log.info(
        { repo: repository.full_name, pr: pull.number },
        "merge in a repository that is not an access repository: nothing recorded",
      );
      return;
    }
    const merge = mergeInfoOf(installation.id, repository, toPullRequestInfo(pull));
    if (!merge) return;
    const options = mergeOptions(kit, db, context.log);
    await kit.locked(context, pull.number, () => processMerge(kit.gatewayFor(context), merge, options));
  });
}

// A code owner's approval of a merged pull request is the review its break-glass access owes.
function onReviewAfterMerge(on: On, { deps, gatewayFor, locked, isAccess }: HandlerKit, db: Knex): void {
  on(["pull_request_review.submitted"], async (context) => {
    const { review, pull_request: pull, repository, installation } = context.payload;
    if (!pull.merged_at || review.state.toLowerCase() !== "approved" || !review.user || review.user.type === "Bot" || !installation) return;
    if (!(await isAccess(context))) return;
    const input = {
      tenant: installation.id,
      repositoryId: repository.id,
      pullNumber: pull.number,
      reviewer: review.user.login,
      reviewerId: review.user.id,
      how: "approval" as const,
    };
    await locked(context as unknown as RepoContext, pull.number, () =>
      reviewBreakGlass(gatewayFor(context as unknown as RepoContext), input, { db, log: context.log, now: deps.now }),
    );
  });
}

function onCommentCommand(on: On, { deps, gatewayFor, locked, isAccess }: HandlerKit, db: Knex): void {
  on(["issue_comment.created"], async (context) => {
    const { issue, comment, repository, installation } = context.payload;
    // Only comments on pull requests, only from people: never from bots, jitsudo included.
    if (!issue.pull_request || !comment.user || comment.user.type === "Bot" || !installation || !(await isAccess(context))) return;
    if (parseCommand(comment.body ?? "").kind === "none") return;
    const command = {
      tenant: installation.id,
      repositoryId: repository.id,
      repoFullName: repository.full_name,
      defaultBranch: repository.default_branch,
      pullNumber: issue.number,
      commentId: comment.id,
      commenter: comment.user.login,
      commenterId: comment.user.id,
      body: comment.body ?? "",
    };
    await locked(context, issue.number, () => handleCommentCommand(gatewayFor(context), command, { db, log: context.log, now: deps.now }));
  });
}

// A merge the catch-up scan found without a verdict (its webhook was lost): judged as the webhook would have been.
function mergeFoundHandler(kit: HandlerKit, db: Knex): Handler {
  return async (context) => {
    const { installation, repository, pull_request: found } = context.payload as unknown as MergeFoundPayload;
    const repoContext = context as unknown as RepoContext;
    if (!(await kit.isAccess(repoContext))) return;
    const gateway = kit.gatewayFor(repoContext);
    // The list the scan read leaves out what the verdict needs (commit count, merged by): read the pull request itself.
    const merge = mergeInfoOf(installation.id, repository, await gateway.getPullRequest(found.number));
    if (!merge || merge.mergeCommitSha !== found.merge_commit_sha) return;
    const outcome = await processMerge(gateway, merge, mergeOptions(kit, db, context.log));
    if (outcome !== "already-recorded")
      context.log.warn(
        { repo: repository.full_name, pr: found.number, outcome },
        "merge without a delivered webhook judged from the catch-up scan",
      );
  };
}

function onPushToDefaultBranch(on: On, { deps, gatewayFor, isAccess }: HandlerKit, db: Knex): void {
  on(["push"], async (context) => {
    const { ref, deleted, repository, installation, before, after, commits, sender } = context.payload;
    // Another repository's policy must never reach the worker (drift reads the recorded configs).
    if (deleted || !installation || ref !== `refs/heads/${repository.default_branch}` || !(await isAccess(context))) return;
    const push = {
      tenant: installation.id,
      repositoryId: repository.id,
      repoFullName: repository.full_name,
      before,
      after,
      pusher: sender?.login ?? "unknown",
      commits,
    };
    const gateway = gatewayFor(context);
    await syncTenantConfig(gateway, { ...push, pushedAt: pushedAt(repository.pushed_at) ?? deps.now() }, { db });
    await reportDirectPush(gateway, push, { db, log: context.log });
  });
}

/** The handler for a delivery, by `name.action` or `name`; undefined when jitsudo does not act on it. */
export function handlerFor(handlers: ReadonlyMap<string, Handler>, name: string, payload: unknown): Handler | undefined {
  const action = (payload as { action?: unknown }).action;
  return (typeof action === "string" ? handlers.get(`${name}.${action}`) : undefined) ?? handlers.get(name);
}

/** Handles events as Probot delivers them, without an inbox (the validation-only server). */
export function registerPullRequestHandlers(app: Probot, deps: HandlerDeps): void {
  const handlers = eventHandlers(app, deps);
  for (const [name, handle] of handlers) app.on(name as never, handle as never);
}

/** What the worker read of the permission sets of a repository's grants, on the instance its config names (or the deployment's). */
function sessionDurationsFor(
  db: Knex,
  repositoryId: number,
  deps: HandlerDeps,
): (config: TenantConfig) => ReturnType<typeof recentSessionDurations> {
  return (config) => {
    const instanceArn = config.aws.instanceArn ?? deps.access.ownInstanceArn;
    return recentSessionDurations(db, { repositoryId, now: deps.now(), ...(instanceArn ? { instanceArn } : {}) });
  };
}

/** GitHub's time of the push (push payloads give epoch seconds): configs are ordered on GitHub's clock, as merges are. */
function pushedAt(value: number | string | null | undefined): Date | undefined {
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value);
  return undefined;
}

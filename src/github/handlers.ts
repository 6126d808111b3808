/**
 * Probot event handlers: each one only translates a webhook into a call of the use case with a
 * gateway for the event's repository. No decisions are made here.
 */
import type { Context, Probot } from "probot";
import type { Knex } from "knex";
import type { KeyedLock } from "../db/locks.js";
import { cachedAppIdentity } from "./app-identity.js";
import { CHECK_NAME } from "./check-run.js";
import { reportDirectPush } from "./direct-push.js";
import { syncTenantConfig } from "./tenant-config-sync.js";
import { pullRequestKey, type PullRequestInfo } from "./gateway.js";
import { OctokitGateway, toPullRequestInfo } from "./octokit-gateway.js";
import { reportNotAccessRepository } from "./not-access-repository.js";
import { mergeInfoOf, processMerge } from "./process-merge.js";
import type { AccessRepositories } from "../config/access-repositories.js";
import { handleCommentCommand, parseCommand } from "./revoke-command.js";
import { validatePullRequest } from "./validate-pull-request.js";

export interface HandlerDeps {
  now: () => Date;
  /** JITSUDO_ACCESS_REPOSITORIES, pinned by repository id: every other repository is not an access repository. */
  access: AccessRepositories;
  /** Where merges are recorded; without it the app only validates pull requests. */
  db?: Knex;
  /** Two events for one PR (a quick second push, or replicas) must not both create the sticky comment. */
  pullRequestLock: KeyedLock;
}

type RepoContext = Context<"pull_request" | "check_run" | "issue_comment" | "push">;

export function registerPullRequestHandlers(app: Probot, deps: HandlerDeps): void {
  const identity = cachedAppIdentity(() => app.auth());
  const botLogin = async () => (await identity()).botLogin;
  const gatewayFor = (context: RepoContext) => {
    const { owner, repo } = context.repo();
    return new OctokitGateway(context.octokit, owner, repo, botLogin);
  };
  const locked = <T>(context: RepoContext, pullNumber: number, work: () => Promise<T>) =>
    deps.pullRequestLock.run(pullRequestKey(context.payload.repository.id, pullNumber), work);
  const accessOf = (context: RepoContext) => deps.access.decide({ id: context.payload.repository.id, fullName: context.payload.repository.full_name });
  const isAccess = async (context: RepoContext) => (await accessOf(context)).allowed;
  const validate = async (context: Context<"pull_request" | "check_run">, gateway: OctokitGateway, pull: PullRequestInfo) => {
    const decision = await accessOf(context);
    if (!decision.allowed) return reportNotAccessRepository(gateway, pull, decision.reason);
    return locked(context, pull.number, () => validatePullRequest(gateway, pull, context.payload.repository.default_branch, { now: deps.now, log: context.log }));
  };

  app.on(
    ["pull_request.opened", "pull_request.synchronize", "pull_request.reopened", "pull_request.ready_for_review"],
    async (context) => {
      await validate(context, gatewayFor(context), toPullRequestInfo(context.payload.pull_request));
    },
  );

  // A PR retargeted to another base branch must be judged again: only the default branch grants.
  app.on("pull_request.edited", async (context) => {
    if (!context.payload.changes.base) return;
    await validate(context, gatewayFor(context), toPullRequestInfo(context.payload.pull_request));
  });

  app.on("check_run.rerequested", async (context) => {
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

  const { db } = deps;
  if (!db) return;

  // The merge is the approval: judge it from GitHub's data now, record it once.
  app.on("pull_request.closed", async (context) => {
    const { pull_request: pull, repository, installation } = context.payload;
    if (!pull.merged) return;
    if (!installation) {
      context.log.error({ pr: pull.number }, "merge webhook without an installation: cannot tell whose grant it would be");
      return;
    }
    if (!(await isAccess(context))) {
      context.log.info({ repo: repository.full_name, pr: pull.number }, "merge in a repository that is not an access repository: nothing recorded");
      return;
    }
    const merge = mergeInfoOf(installation.id, repository, toPullRequestInfo(pull));
    if (!merge) return;
    const options = { db, now: deps.now, log: context.log, access: deps.access };
    await locked(context, pull.number, () => processMerge(gatewayFor(context), merge, options));
  });

  app.on("issue_comment.created", async (context) => {
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

  app.on("push", async (context) => {
    const { ref, deleted, repository, installation, before, after, commits, sender } = context.payload;
    // Another repository's policy must never reach the worker (drift reads the recorded configs).
    if (deleted || !installation || ref !== `refs/heads/${repository.default_branch}` || !(await isAccess(context))) return;
    const push = { tenant: installation.id, repositoryId: repository.id, repoFullName: repository.full_name, before, after, pusher: sender?.login ?? "unknown", commits };
    const gateway = gatewayFor(context);
    await syncTenantConfig(gateway, { ...push, pushedAt: pushedAt(repository.pushed_at) ?? deps.now() }, { db });
    await reportDirectPush(gateway, push, { db, log: context.log });
  });
}

/** GitHub's time of the push (push payloads give epoch seconds): configs are ordered on GitHub's clock, as merges are. */
function pushedAt(value: number | string | null | undefined): Date | undefined {
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value === "string" && !Number.isNaN(Date.parse(value))) return new Date(value);
  return undefined;
}

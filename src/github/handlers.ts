/**
 * Probot event handlers: each one only translates a webhook into a call of the use case with a
 * gateway for the event's repository. No decisions are made here.
 */
import type { Context, Probot } from "probot";
import type { Knex } from "knex";
import type { KeyedLock } from "../db/locks.js";
import { processMerge } from "./process-merge.js";
import { handleCommentCommand, parseCommand } from "./revoke-command.js";
import { OctokitGateway, toPullRequestInfo } from "./octokit-gateway.js";
import type { PullRequestInfo } from "./gateway.js";
import { validatePullRequest, type ValidateDeps } from "./validate-pull-request.js";
import { CHECK_NAME } from "./check-run.js";

export interface HandlerDeps {
  now: () => Date;
  /** Where merges are recorded; without it the app only validates pull requests. */
  db?: Knex;
  /** Two events for one PR (a quick second push, or replicas) must not both create the sticky comment. */
  pullRequestLock: KeyedLock;
}

type RepoContext = Context<"pull_request" | "check_run">;
const prKey = (repositoryId: number, pullNumber: number) => `${repositoryId}#${pullNumber}`;

export function registerPullRequestHandlers(app: Probot, deps: HandlerDeps): void {
  const identity = cachedAppIdentity(app);
  const botLogin = async () => (await identity()).botLogin;
  const gatewayFor = (context: RepoContext) => {
    const { owner, repo } = context.repo();
    return new OctokitGateway(context.octokit, owner, repo, botLogin);
  };
  const validateDeps = (context: RepoContext): ValidateDeps => ({ now: deps.now, log: context.log });
  const validate = (context: RepoContext, gateway: OctokitGateway, pull: PullRequestInfo) =>
    deps.pullRequestLock.run(prKey(context.payload.repository.id, pull.number), () =>
      validatePullRequest(gateway, pull, context.payload.repository.default_branch, validateDeps(context)),
    );

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

  const { db } = deps;
  if (db) {
    // The merge is the approval: judge it from GitHub's data now, record it once.
    app.on("pull_request.closed", async (context) => {
      const { pull_request: pull, repository, installation } = context.payload;
      if (!pull.merged || !pull.merge_commit_sha) return;
      if (!installation) {
        context.log.error({ pr: pull.number }, "merge webhook without an installation: cannot tell whose grant it would be");
        return;
      }
      const gateway = gatewayFor(context);
      const merge = {
        tenant: installation.id,
        repoFullName: repository.full_name,
        defaultBranch: repository.default_branch,
        pr: toPullRequestInfo(pull),
        mergeCommitSha: pull.merge_commit_sha,
        mergedAt: new Date(pull.merged_at ?? deps.now()),
        ...(pull.merged_by?.login ? { mergedBy: pull.merged_by.login } : {}),
        commitCount: pull.commits,
      };
      await deps.pullRequestLock.run(prKey(repository.id, pull.number), () => processMerge(gateway, merge, { db, now: deps.now, log: context.log }));
    });
  }

  if (db) {
    app.on("issue_comment.created", async (context) => {
      const { issue, comment, repository, installation } = context.payload;
      // Only comments on pull requests, only from people: never from bots, jitsudo included.
      if (!issue.pull_request || comment.user?.type === "Bot" || !installation || !comment.user) return;
      if (parseCommand(comment.body ?? "").kind === "none") return;
      const { owner, repo } = context.repo();
      const gateway = new OctokitGateway(context.octokit, owner, repo, botLogin);
      await deps.pullRequestLock.run(prKey(repository.id, issue.number), () =>
        handleCommentCommand(
          gateway,
          {
            tenant: installation.id,
            repoFullName: repository.full_name,
            defaultBranch: repository.default_branch,
            pullNumber: issue.number,
            commentId: comment.id,
            commenter: comment.user!.login,
            body: comment.body ?? "",
          },
          { db, log: context.log },
        ),
      );
    });
  }

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
}

/** Who the app is on GitHub (id and `<slug>[bot]` login), asked once per process, again if that failed. */
function cachedAppIdentity(app: Probot): () => Promise<{ id: number; botLogin: string }> {
  let pending: Promise<{ id: number; botLogin: string }> | undefined;
  return () => {
    pending ??= (async () => {
      const octokit = await app.auth();
      const { data } = await octokit.rest.apps.getAuthenticated();
      if (!data?.slug) throw new Error("GitHub did not return the app's slug");
      return { id: data.id, botLogin: `${data.slug}[bot]` };
    })().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

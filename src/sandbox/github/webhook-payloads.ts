/**
 * The webhook payloads GitHub sends for what happens in the model. Each starts from GitHub's own
 * example in @octokit/webhooks-examples, so every field GitHub sends is there; everything the
 * scenario is about (the pull request, its head, base and merge commits, the pushed commits, the
 * comment, the check run, the repository and the installation) is filled from the model.
 */
import { createRequire } from "node:module";
import type { Accounts } from "./accounts.js";
import { diffTrees, type Commit, type ObjectStore } from "./git-objects.js";
import type { GitRepository } from "./git-repository.js";
import type { ModelEvent } from "./repository.js";
import { issueCommentJson, checkRunJson } from "./rest-json-issues.js";
import { pullJson, reviewJson, type JsonContext } from "./rest-json-pulls.js";
import { nodeId, repositoryJson, type AppInfo } from "./rest-json.js";
import type { WebhookDelivery } from "./world.js";

export interface WebhookContext extends JsonContext {
  app: AppInfo;
  accounts: Accounts;
  openIssues(repo: GitRepository): number;
}

// GitHub's published example payloads, edited field by field into this event's: untyped JSON by
// nature (the contract test checks the result against GitHub's webhook schemas instead).
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access */
type Json = Record<string, any>;

// A JSON package: required, since importing JSON from ESM needs import attributes Node 20 and tsc disagree on.
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as { name: string; examples: Json[] }[];

export function webhookPayload(context: WebhookContext, event: ModelEvent): WebhookDelivery {
  const hooks = webhookContext(context);
  const repo = event.repo;
  const common = {
    repository: webhookRepository(context, repo),
    installation: { id: repo.installationId, node_id: nodeId("Installation", repo.installationId) },
  };
  if (event.kind === "push") return { name: "push", payload: pushPayload(context, event, common) };
  if (event.kind === "pull_request") {
    const payload = example("pull_request", event.action === "edited" ? "opened" : event.action);
    Object.assign(payload, common, {
      action: event.action,
      number: event.pull.number,
      pull_request: pullJson(hooks, event.repo, event.pull),
      sender: hooks.user(event.sender),
    });
    if (event.action === "synchronize") Object.assign(payload, { before: event.before, after: event.pull.headSha });
    if (event.changes) payload.changes = event.changes;
    return { name: "pull_request", payload };
  }
  if (event.kind === "pull_request_review") {
    const payload = example("pull_request_review", event.action);
    const review = reviewJson(hooks, event.repo, event.pull, event.review);
    // Webhooks spell review states in lower case ("approved"), the REST API in upper case.
    review.state = event.review.state.toLowerCase();
    // A review's webhook carries the pull request in its short form (no merge or size details).
    Object.assign(payload, common, {
      action: event.action,
      review,
      pull_request: pullJson(hooks, event.repo, event.pull, "summary"),
      sender: hooks.user(event.sender),
    });
    return { name: "pull_request_review", payload };
  }
  if (event.kind === "issue_comment") return { name: "issue_comment", payload: commentPayload(hooks, event, common) };
  return { name: "check_run", payload: checkRunPayload(hooks, context.app, event, common) };
}

/** Webhooks use GitHub's `user` representation, which has no `user_view_type`. */
function webhookContext(context: WebhookContext): WebhookContext {
  const user = (login: string) => {
    const { user_view_type: _omitted, ...rest } = context.user(login);
    return rest;
  };
  return { ...context, user, repository: (repo) => webhookRepository({ ...context, user }, repo) };
}

function webhookRepository(context: WebhookContext, repo: GitRepository): Json {
  const template = example("pull_request", "opened").repository as Json;
  const rest = repositoryJson(repo, context.account(repo.owner), context.urls, context.openIssues(repo));
  const { user_view_type: _omitted, ...owner } = rest.owner as Json;
  return { ...template, ...pick(rest, Object.keys(template)), owner, custom_properties: {} };
}

function pushPayload(context: WebhookContext, event: Extract<ModelEvent, { kind: "push" }>, common: Json): Json {
  const template = examples.find((group) => group.name === "push")!.examples.find((candidate) => candidate.installation) as Json;
  const payload: Json = structuredClone(template);
  const repo = event.repo;
  const commits = event.commits.map((commit) => pushedCommit(context, repo, commit, !event.known.has(commit.sha)));
  // Push events give the repository's times as Unix timestamps.
  const repository = {
    ...common.repository,
    created_at: seconds(repo.createdAt),
    pushed_at: repo.pushedAt ? seconds(repo.pushedAt) : null,
  };
  const pusher = context.account(event.pusher);
  Object.assign(payload, common, {
    ref: event.ref,
    before: event.before,
    after: event.after,
    created: event.created,
    deleted: event.deleted,
    forced: event.forced,
    base_ref: null,
    compare: event.created
      ? context.urls.web(`/${repo.fullName}/commit/${event.after.slice(0, 12)}`)
      : context.urls.web(`/${repo.fullName}/compare/${event.before.slice(0, 12)}...${event.after.slice(0, 12)}`),
    commits,
    head_commit: event.deleted ? null : (commits.at(-1) ?? pushedCommit(context, repo, repo.objects.require(event.after), false)),
    pusher: { name: pusher.login, email: pusher.email },
    repository,
    sender: webhookContext(context).user(event.pusher),
  });
  return payload;
}

function pushedCommit(context: WebhookContext, repo: GitRepository, commit: Commit, distinct: boolean): Json {
  const { added, modified, removed } = pathsChanged(repo.objects, commit);
  const person = (signature: Commit["author"]) => ({
    name: signature.name,
    email: signature.email,
    ...(signature.login ? { username: signature.login } : {}),
  });
  return {
    id: commit.sha,
    tree_id: commit.treeSha,
    distinct,
    message: commit.message,
    timestamp: commit.committer.date,
    url: context.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    author: person(commit.author),
    committer: person(commit.committer),
    added,
    removed,
    modified,
  };
}

/** Paths a commit adds, changes and removes, against its first parent (as GitHub lists them for a push). */
function pathsChanged(objects: ObjectStore, commit: Commit): { added: string[]; modified: string[]; removed: string[] } {
  const parent = commit.parents[0] ? objects.require(commit.parents[0]).tree : new Map();
  const changes = diffTrees(parent, commit.tree);
  return {
    added: changes.filter((change) => !change.before).map((change) => change.path),
    modified: changes.filter((change) => change.before && change.after).map((change) => change.path),
    removed: changes.filter((change) => !change.after).map((change) => change.path),
  };
}

function commentPayload(context: WebhookContext, event: Extract<ModelEvent, { kind: "issue_comment" }>, common: Json): Json {
  const template = examples
    .find((group) => group.name === "issue_comment")!
    .examples.find(
      (candidate) => candidate.action === "created" && !candidate.organization && "active_lock_reason" in candidate.issue,
    ) as Json;
  const payload: Json = structuredClone(template);
  const { repo, pull, comment } = event;
  const pullRequest = pullJson(context, repo, pull, "summary") as Json;
  const issue = {
    ...payload.issue,
    ...pick(pullRequest, [
      "id",
      "node_id",
      "number",
      "title",
      "user",
      "state",
      "locked",
      "body",
      "created_at",
      "updated_at",
      "closed_at",
      "author_association",
      "active_lock_reason",
      "assignee",
      "assignees",
      "labels",
      "milestone",
    ]),
    url: pullRequest.issue_url,
    html_url: pullRequest.html_url,
    repository_url: context.urls.api(`/repos/${repo.fullName}`),
    labels_url: `${pullRequest.issue_url}/labels{/name}`,
    comments_url: pullRequest.comments_url,
    events_url: `${pullRequest.issue_url}/events`,
    comments: repo.conversation.commentsOn(pull.number).length,
    pull_request: {
      url: pullRequest.url,
      html_url: pullRequest.html_url,
      diff_url: pullRequest.diff_url,
      patch_url: pullRequest.patch_url,
      merged_at: pullRequest.merged_at,
    },
  };
  const commentJson = { ...payload.comment, ...issueCommentJson(context, repo, comment) };
  Object.assign(payload, common, { action: "created", issue, comment: commentJson, sender: context.user(comment.user.login) });
  return payload;
}

function checkRunPayload(context: WebhookContext, app: AppInfo, event: Extract<ModelEvent, { kind: "check_run" }>, common: Json): Json {
  const payload: Json = example("check_run", "rerequested");
  const run = checkRunJson(context, event.repo, event.run, app);
  // Webhooks describe the app without `client_id`, and its owner as a webhook `user`.
  const { client_id: _clientId, ...runApp } = run.app as Json;
  run.app = { ...runApp, owner: context.user((runApp.owner as Json).login as string) };
  const { check_suite: _suite, ...fields } = run;
  const suite = {
    ...payload.check_run.check_suite,
    id: (run.check_suite as Json).id,
    head_sha: run.head_sha,
    app: run.app,
    pull_requests: run.pull_requests,
    status: run.status,
    conclusion: run.conclusion,
  };
  const checkRun = { ...payload.check_run, ...fields, check_suite: suite };
  delete payload.organization;
  Object.assign(payload, common, { action: "rerequested", check_run: checkRun, sender: context.user(event.sender) });
  return payload;
}

function example(name: string, action: string): Json {
  const group = examples.find((candidate) => candidate.name === name);
  const found = group?.examples.find((candidate) => candidate.action === action && candidate.installation && !candidate.organization);
  const fallback = group?.examples.find((candidate) => candidate.action === action);
  if (!found && !fallback) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  const payload = structuredClone((found ?? fallback) as Json);
  delete payload.organization;
  return payload;
}

function pick(source: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]]));
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

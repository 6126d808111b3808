/**
 * GitHub's REST representations of comments, reactions, check runs, repository activity, team
 * memberships and collaborator permissions, with every field GitHub's OpenAPI description requires.
 */
import type { ActivityEntry } from "./activity.js";
import { githubTime } from "./clock.js";
import type { CheckRun, IssueComment, Reaction } from "./issues.js";
import type { Repository } from "./repository.js";
import type { JsonContext } from "./rest-json-pulls.js";
import { appJson, nodeId, type AppInfo } from "./rest-json.js";

export function issueCommentJson(context: JsonContext, repo: Repository, comment: IssueComment): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  return {
    id: comment.id,
    node_id: nodeId("IssueComment", comment.id),
    url: `${api}/issues/comments/${comment.id}`,
    html_url: context.urls.web(`/${repo.fullName}/pull/${comment.issueNumber}#issuecomment-${comment.id}`),
    issue_url: `${api}/issues/${comment.issueNumber}`,
    body: comment.body,
    user: context.user(comment.user.login),
    created_at: githubTime(comment.createdAt),
    updated_at: githubTime(comment.updatedAt),
    author_association: context.association(repo, comment.user.login),
  };
}

export function reactionJson(context: JsonContext, reaction: Reaction): Record<string, unknown> {
  return {
    id: reaction.id,
    node_id: nodeId("Reaction", reaction.id),
    user: context.user(reaction.login),
    content: reaction.content,
    created_at: githubTime(reaction.createdAt),
  };
}

export function checkRunJson(context: JsonContext, repo: Repository, run: CheckRun, app: AppInfo): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  const runApp: AppInfo = run.app.id === app.id ? app : { ...app, ...run.app, permissions: {}, events: [] };
  return {
    id: run.id,
    node_id: nodeId("CheckRun", run.id),
    head_sha: run.headSha,
    external_id: run.externalId,
    url: `${api}/check-runs/${run.id}`,
    html_url: context.urls.web(`/${repo.fullName}/runs/${run.id}`),
    details_url: context.urls.web(`/${repo.fullName}/runs/${run.id}`),
    status: run.status,
    conclusion: run.conclusion,
    started_at: githubTime(run.startedAt),
    completed_at: run.completedAt ? githubTime(run.completedAt) : null,
    output: { ...run.output, annotations_count: run.annotations.length, annotations_url: `${api}/check-runs/${run.id}/annotations` },
    name: run.name,
    check_suite: { id: run.id + 1 },
    app: appJson(runApp, context.account(runApp.owner), context.urls),
    pull_requests: openPullsAt(repo, run.headSha).map((pull) => ({
      id: pull.id,
      number: pull.number,
      url: `${api}/pulls/${pull.number}`,
      head: { ref: pull.headRef, sha: pull.headSha, repo: { id: repo.id, url: api, name: repo.name } },
      base: { ref: pull.baseRef, sha: pull.baseSha, repo: { id: repo.id, url: api, name: repo.name } },
    })),
  };
}

/** The open pull requests whose head is `sha`: the ones a check run on it belongs to. */
export function openPullsAt(repo: Repository, sha: string) {
  return [...repo.pulls.values()].filter((pull) => pull.state === "open" && pull.headSha === sha);
}

export function activityJson(context: JsonContext, entry: ActivityEntry): Record<string, unknown> {
  return {
    id: entry.id,
    node_id: nodeId("RepositoryActivity", entry.id),
    before: entry.before,
    after: entry.after,
    ref: entry.ref,
    timestamp: githubTime(entry.timestamp),
    activity_type: entry.activityType,
    actor: entry.actor ? context.user(entry.actor) : null,
  };
}

export function teamMembershipJson(context: JsonContext, org: string, slug: string, login: string, state: string): Record<string, unknown> {
  return { url: context.urls.api(`/orgs/${org}/teams/${slug}/memberships/${login}`), role: "member", state };
}

/** `permission` folds the finer roles into GitHub's classic levels: maintain → write, triage → read. */
export function permissionJson(context: JsonContext, login: string, role: string): Record<string, unknown> {
  const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
  const flags = {
    admin: role === "admin",
    maintain: role === "admin" || role === "maintain",
    push: permission !== "read",
    triage: role !== "read",
    pull: true,
  };
  return { permission, role_name: role, user: { ...context.user(login), permissions: flags, role_name: role } };
}

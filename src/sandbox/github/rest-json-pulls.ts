/**
 * GitHub's REST representations of pull requests and git data (`pull-request`,
 * `pull-request-simple`, `diff-entry`, `commit`, `git-commit`, `pull-request-review`, `blob`), with
 * every field GitHub's OpenAPI description requires, filled from the model.
 *
 * A pull request in a list lacks what only a single pull request carries (`merged`, `merged_by`,
 * `commits`, `changed_files`, ...), as `pull-request-simple` says: jitsudo must read the pull
 * request itself for those.
 */
import { Buffer } from "node:buffer";
import type { Account } from "./accounts.js";
import { githubTime } from "./clock.js";
import type { Commit, Signature } from "./git-objects.js";
import type { FileChange, PullRequest, Review } from "./pulls.js";
import type { Repository } from "./repository.js";
import { nodeId, type Urls } from "./rest-json.js";

/** What the builders need from the local GitHub around them. */
export interface JsonContext {
  urls: Urls;
  account(login: string): Account;
  user(login: string): Record<string, unknown>;
  repository(repo: Repository): Record<string, unknown>;
  /** GitHub's author_association of `login` with `repo`. */
  association(repo: Repository, login: string): string;
}

export function pullJson(
  context: JsonContext,
  repo: Repository,
  pull: PullRequest,
  shape: "full" | "summary" = "full",
): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  const html = context.urls.web(`/${repo.fullName}/pull/${pull.number}`);
  const time = (date: Date | null) => (date ? githubTime(date) : null);
  const summary = {
    url: `${api}/pulls/${pull.number}`,
    id: pull.id,
    node_id: nodeId("PullRequest", pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: context.user(pull.author),
    body: pull.body === "" ? null : pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: githubTime(pull.createdAt),
    updated_at: githubTime(pull.updatedAt),
    closed_at: time(pull.closedAt),
    merged_at: time(pull.merged?.at ?? null),
    merge_commit_sha: pull.merged?.commitSha ?? null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branchJson(context, repo, pull.headRef, pull.headSha),
    base: branchJson(context, repo, pull.baseRef, pull.baseSha),
    _links: linksOf(api, html, pull),
    author_association: context.association(repo, pull.author),
    auto_merge: null,
    draft: pull.draft,
  };
  return shape === "summary" ? summary : { ...summary, ...detailsOf(context, repo, pull) };
}

function detailsOf(context: JsonContext, repo: Repository, pull: PullRequest): Record<string, unknown> {
  const changes = repo.changes(pull);
  const open = pull.state === "open";
  const mergeable = open ? repo.mergeable(pull) : null;
  return {
    merged: pull.merged !== null,
    mergeable,
    rebaseable: mergeable,
    mergeable_state: mergeable === null ? "unknown" : mergeable ? "clean" : "dirty",
    merged_by: pull.merged ? context.user(pull.merged.by) : null,
    comments: repo.conversation.commentsOn(pull.number).length,
    review_comments: 0,
    maintainer_can_modify: false,
    // The true counts, even where the lists stop (250 commits, 3000 files).
    commits: changes.commits.length,
    additions: changes.files.reduce((sum, file) => sum + file.additions, 0),
    deletions: changes.files.reduce((sum, file) => sum + file.deletions, 0),
    changed_files: changes.files.length,
  };
}

function branchJson(context: JsonContext, repo: Repository, ref: string, sha: string): Record<string, unknown> {
  return { label: `${repo.owner}:${ref}`, ref, sha, user: context.user(repo.owner), repo: context.repository(repo) };
}

function linksOf(api: string, html: string, pull: PullRequest): Record<string, { href: string }> {
  const link = (href: string) => ({ href });
  return {
    self: link(`${api}/pulls/${pull.number}`),
    html: link(html),
    issue: link(`${api}/issues/${pull.number}`),
    comments: link(`${api}/issues/${pull.number}/comments`),
    review_comments: link(`${api}/pulls/${pull.number}/comments`),
    review_comment: link(`${api}/pulls/comments{/number}`),
    commits: link(`${api}/pulls/${pull.number}/commits`),
    statuses: link(`${api}/statuses/${pull.headSha}`),
  };
}

export function diffEntryJson(context: JsonContext, repo: Repository, headSha: string, file: FileChange): Record<string, unknown> {
  const path = file.filename.split("/").map(encodeURIComponent).join("/");
  return {
    sha: file.sha,
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: context.urls.web(`/${repo.fullName}/blob/${headSha}/${path}`),
    raw_url: context.urls.web(`/${repo.fullName}/raw/${headSha}/${path}`),
    contents_url: context.urls.api(`/repos/${repo.fullName}/contents/${path}?ref=${headSha}`),
    ...(file.previousFilename ? { previous_filename: file.previousFilename } : {}),
  };
}

/** `GET /repos/{owner}/{repo}/pulls/{pull_number}/commits` entries (the `commit` representation). */
export function commitJson(context: JsonContext, repo: Repository, commit: Commit): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  return {
    url: `${api}/commits/${commit.sha}`,
    sha: commit.sha,
    node_id: nodeId("Commit", commit.sha),
    html_url: context.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    comments_url: `${api}/commits/${commit.sha}/comments`,
    commit: {
      url: `${api}/git/commits/${commit.sha}`,
      author: personJson(commit.author),
      committer: personJson(commit.committer),
      message: commit.message,
      comment_count: 0,
      tree: { sha: commit.treeSha, url: `${api}/git/trees/${commit.treeSha}` },
      verification: UNSIGNED,
    },
    // An account only when GitHub linked the e-mail address to one.
    author: commit.author.login ? context.user(commit.author.login) : null,
    committer: commit.committer.login ? context.user(commit.committer.login) : null,
    parents: parentsJson(context, repo, commit),
  };
}

export function gitCommitJson(context: JsonContext, repo: Repository, commit: Commit): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  return {
    sha: commit.sha,
    node_id: nodeId("Commit", commit.sha),
    url: `${api}/git/commits/${commit.sha}`,
    html_url: context.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    author: personJson(commit.author),
    committer: personJson(commit.committer),
    message: commit.message,
    tree: { sha: commit.treeSha, url: `${api}/git/trees/${commit.treeSha}` },
    parents: parentsJson(context, repo, commit),
    verification: UNSIGNED,
  };
}

export function reviewJson(context: JsonContext, repo: Repository, pull: PullRequest, review: Review): Record<string, unknown> {
  const html = context.urls.web(`/${repo.fullName}/pull/${pull.number}#pullrequestreview-${review.id}`);
  const pullUrl = context.urls.api(`/repos/${repo.fullName}/pulls/${pull.number}`);
  return {
    id: review.id,
    node_id: nodeId("PullRequestReview", review.id),
    user: context.user(review.login),
    body: review.body,
    state: review.state,
    html_url: html,
    pull_request_url: pullUrl,
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    submitted_at: githubTime(review.submittedAt),
    // "If the commit object was garbage collected or forcibly deleted, then it no longer exists in
    // Git and this value will be null" (GitHub's description of the field).
    commit_id: repo.isPurged(review.commitId) ? null : review.commitId,
    author_association: context.association(repo, review.login),
  };
}

export function blobJson(context: JsonContext, repo: Repository, sha: string, bytes: Uint8Array): Record<string, unknown> {
  return {
    sha,
    node_id: nodeId("Blob", sha),
    size: bytes.byteLength,
    url: context.urls.api(`/repos/${repo.fullName}/git/blobs/${sha}`),
    content: Buffer.from(bytes).toString("base64"),
    encoding: "base64",
  };
}

const UNSIGNED = { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null };

function personJson(signature: Signature): { name: string; email: string; date: string } {
  return { name: signature.name, email: signature.email, date: signature.date };
}

function parentsJson(context: JsonContext, repo: Repository, commit: Commit): { sha: string; url: string; html_url: string }[] {
  return commit.parents.map((sha) => ({
    sha,
    url: context.urls.api(`/repos/${repo.fullName}/commits/${sha}`),
    html_url: context.urls.web(`/${repo.fullName}/commit/${sha}`),
  }));
}

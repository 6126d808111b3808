/**
 * GitHub's REST representations of accounts, repositories, the app and its installations, built
 * from the model with every field GitHub's OpenAPI description requires (`simple-user`,
 * `repository`, `integration`, `installation`). URLs follow GitHub's own shapes, on github.com or
 * on a GitHub Enterprise Server host.
 */
import { Buffer } from "node:buffer";
import type { Account } from "./accounts.js";
import { githubTime } from "./clock.js";
import type { GitRepository } from "./git-repository.js";

export class Urls {
  constructor(
    /** https://api.github.com, or http(s)://<host>/api/v3 for GitHub Enterprise Server. */
    readonly apiBase: string,
    /** https://github.com, or http(s)://<host>. */
    readonly webBase: string,
  ) {}

  api(path: string): string {
    return `${this.apiBase}${path}`;
  }

  web(path: string): string {
    return `${this.webBase}${path}`;
  }
}

export interface AppInfo {
  id: number;
  slug: string;
  name: string;
  owner: string;
  createdAt: Date;
  /** The app's permissions and events, as the installation shows them. */
  permissions: Record<string, string>;
  events: string[];
}

export interface InstallationInfo {
  id: number;
  account: string;
  createdAt: Date;
}

/** GitHub's global node ids are opaque base64 strings; these are stable per type and number. */
export function nodeId(type: string, id: number | string): string {
  return Buffer.from(`0:${type}${id}`).toString("base64").replace(/=+$/, "");
}

export function userJson(account: Account, urls: Urls): Record<string, unknown> {
  // GitHub percent-encodes logins in URLs (a bot's "[bot]" becomes "%5Bbot%5D").
  const login = encodeURIComponent(account.login);
  const api = (suffix = "") => urls.api(`/users/${login}${suffix}`);
  return {
    login: account.login,
    id: account.id,
    node_id: nodeId(account.type === "Organization" ? "Organization" : account.type === "Bot" ? "Bot" : "User", account.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
    gravatar_id: "",
    url: api(),
    html_url: account.type === "Bot" ? urls.web(`/apps/${account.login.replace(/\[bot\]$/, "")}`) : urls.web(`/${login}`),
    followers_url: api("/followers"),
    following_url: api("/following{/other_user}"),
    gists_url: api("/gists{/gist_id}"),
    starred_url: api("/starred{/owner}{/repo}"),
    subscriptions_url: api("/subscriptions"),
    organizations_url: api("/orgs"),
    repos_url: api("/repos"),
    events_url: api("/events{/privacy}"),
    received_events_url: api("/received_events"),
    type: account.type,
    user_view_type: "public",
    site_admin: false,
  };
}

/** URL templates of a repository, by field name (GitHub's `repository` representation). */
const REPOSITORY_URL_TEMPLATES: Record<string, string> = {
  archive_url: "/{archive_format}{/ref}",
  assignees_url: "/assignees{/user}",
  blobs_url: "/git/blobs{/sha}",
  branches_url: "/branches{/branch}",
  collaborators_url: "/collaborators{/collaborator}",
  comments_url: "/comments{/number}",
  commits_url: "/commits{/sha}",
  compare_url: "/compare/{base}...{head}",
  contents_url: "/contents/{+path}",
  contributors_url: "/contributors",
  deployments_url: "/deployments",
  downloads_url: "/downloads",
  events_url: "/events",
  forks_url: "/forks",
  git_commits_url: "/git/commits{/sha}",
  git_refs_url: "/git/refs{/sha}",
  git_tags_url: "/git/tags{/sha}",
  hooks_url: "/hooks",
  issue_comment_url: "/issues/comments{/number}",
  issue_events_url: "/issues/events{/number}",
  issues_url: "/issues{/number}",
  keys_url: "/keys{/key_id}",
  labels_url: "/labels{/name}",
  languages_url: "/languages",
  merges_url: "/merges",
  milestones_url: "/milestones{/number}",
  notifications_url: "/notifications{?since,all,participating}",
  pulls_url: "/pulls{/number}",
  releases_url: "/releases{/id}",
  stargazers_url: "/stargazers",
  statuses_url: "/statuses/{sha}",
  subscribers_url: "/subscribers",
  subscription_url: "/subscription",
  tags_url: "/tags",
  teams_url: "/teams",
  trees_url: "/git/trees{/sha}",
};

export function repositoryJson(repo: GitRepository, owner: Account, urls: Urls, openIssues: number): Record<string, unknown> {
  const api = urls.api(`/repos/${repo.fullName}`);
  const web = urls.web(`/${repo.fullName}`);
  const host = new URL(urls.webBase).host;
  const templates = Object.fromEntries(Object.entries(REPOSITORY_URL_TEMPLATES).map(([field, suffix]) => [field, `${api}${suffix}`]));
  const time = (date: Date | null) => (date ? githubTime(date) : null);
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: userJson(owner, urls),
    private: repo.isPrivate,
    visibility: repo.isPrivate ? "private" : "public",
    html_url: web,
    description: null,
    fork: false,
    url: api,
    ...templates,
    git_url: `git://${host}/${repo.fullName}.git`,
    ssh_url: `git@${host}:${repo.fullName}.git`,
    clone_url: `${web}.git`,
    svn_url: web,
    mirror_url: null,
    homepage: null,
    language: null,
    license: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openIssues,
    open_issues: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    web_commit_signoff_required: false,
    allow_forking: true,
    pushed_at: time(repo.pushedAt),
    created_at: time(repo.createdAt),
    updated_at: time(repo.pushedAt ?? repo.createdAt),
  };
}

export function appJson(app: AppInfo, owner: Account, urls: Urls): Record<string, unknown> {
  return {
    id: app.id,
    slug: app.slug,
    node_id: nodeId("App", app.id),
    client_id: `Iv1.${app.id.toString(16).padStart(16, "0")}`,
    owner: userJson(owner, urls),
    name: app.name,
    description: null,
    external_url: urls.web(`/apps/${app.slug}`),
    html_url: urls.web(`/apps/${app.slug}`),
    created_at: githubTime(app.createdAt),
    updated_at: githubTime(app.createdAt),
    permissions: app.permissions,
    events: app.events,
  };
}

export function installationJson(installation: InstallationInfo, account: Account, app: AppInfo, urls: Urls): Record<string, unknown> {
  return {
    id: installation.id,
    account: userJson(account, urls),
    repository_selection: "selected",
    access_tokens_url: urls.api(`/app/installations/${installation.id}/access_tokens`),
    repositories_url: urls.api("/installation/repositories"),
    html_url: urls.web(`/settings/installations/${installation.id}`),
    app_id: app.id,
    app_slug: app.slug,
    target_id: account.id,
    target_type: account.type,
    permissions: app.permissions,
    events: app.events,
    created_at: githubTime(installation.createdAt),
    updated_at: githubTime(installation.createdAt),
    single_file_name: null,
    suspended_by: null,
    suspended_at: null,
  };
}

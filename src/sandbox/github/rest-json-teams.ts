/**
 * GitHub's `team-full` representation (GET /orgs/{org}/teams/{team_slug}), which jitsudo reads to
 * tell a renamed or deleted team from a person who is not a member (the membership endpoint answers
 * 404 for both). The local GitHub does not model when teams and organisations were created, nor
 * their settings, so those fields hold GitHub's defaults for a new team.
 */
import type { Account, Team } from "./accounts.js";
import { nodeId, type Urls } from "./rest-json.js";

/** A fixed creation time: nothing jitsudo does depends on it. */
const CREATED_AT = "2020-01-01T00:00:00Z";

export function teamJson(urls: Urls, team: Team, organization: Account, repositoryCount: number, parent?: Team): Record<string, unknown> {
  return {
    ...teamSimpleJson(urls, team, organization),
    // A child team names its parent (GitHub's `nullable-team-simple`).
    parent: parent ? teamSimpleJson(urls, parent, organization) : null,
    // GitHub counts accepted members only; an invitation is not membership.
    members_count: [...team.members.values()].filter((state) => state === "active").length,
    repos_count: repositoryCount,
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    organization_id: organization.id,
    organization: organizationJson(urls, organization),
  };
}

/** GitHub's `team-simple`: what a team is, without its counts or organisation. */
function teamSimpleJson(urls: Urls, team: Team, organization: Account): Record<string, unknown> {
  const api = urls.api(`/organizations/${organization.id}/team/${team.id}`);
  return {
    id: team.id,
    node_id: nodeId("Team", team.id),
    url: api,
    html_url: urls.web(`/orgs/${organization.login}/teams/${team.slug}`),
    name: team.slug,
    slug: team.slug,
    description: null,
    privacy: "closed",
    notification_setting: "notifications_enabled",
    permission: "pull",
    members_url: `${api}/members{/member}`,
    repositories_url: `${api}/repos`,
    type: "organization",
  };
}

function organizationJson(urls: Urls, organization: Account): Record<string, unknown> {
  const api = (suffix = "") => urls.api(`/orgs/${organization.login}${suffix}`);
  return {
    login: organization.login,
    id: organization.id,
    node_id: nodeId("Organization", organization.id),
    url: api(),
    repos_url: api("/repos"),
    events_url: api("/events"),
    hooks_url: api("/hooks"),
    issues_url: api("/issues"),
    members_url: api("/members{/member}"),
    public_members_url: api("/public_members{/member}"),
    avatar_url: `https://avatars.githubusercontent.com/u/${organization.id}?v=4`,
    description: null,
    html_url: urls.web(`/${organization.login}`),
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: "Organization",
    created_at: CREATED_AT,
    updated_at: CREATED_AT,
    archived_at: null,
  };
}

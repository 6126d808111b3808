/**
 * A GitHubGateway for any repository of any installation, outside a webhook: for the workers'
 * reports and the background jobs, which only know a grant's tenant (installation id) and repo.
 */
import type { Probot } from "probot";
import { cachedAppIdentity } from "./app-identity.js";
import type { GitHubGateway } from "./gateway.js";
import type { RepositoryRef } from "./grant-comments.js";
import { OctokitGateway } from "./octokit-gateway.js";

export function installationGateways(probot: Probot): (tenant: string, repository: RepositoryRef) => Promise<GitHubGateway> {
  const identity = cachedAppIdentity(() => probot.auth());
  const botLogin = async () => (await identity()).botLogin;
  return async (tenant, repository) => {
    // Probot caches installation tokens and refreshes them before they expire.
    const octokit = await probot.auth(Number(tenant));
    // By id: a renamed repository is found under its new name, and a new repository that took the
    // old name is never written to. Grants from before ids were kept go by the name they recorded.
    const fullName = repository.id === null ? repository.fullName : await repositoryFullName(octokit, Number(repository.id));
    const [owner, repo] = fullName.split("/");
    if (!owner || !repo) throw new Error(`"${fullName}" is not owner/name`);
    return new OctokitGateway(octokit, owner, repo, botLogin);
  };
}

/**
 * `GET /repositories/{id}` is not in Octokit's typed routes (GitHub documents it only by example),
 * so its answer is typed here: the one field read from it.
 */
async function repositoryFullName(octokit: { request(route: string, parameters: object): Promise<unknown> }, id: number): Promise<string> {
  const response = (await octokit.request("GET /repositories/{repository_id}", { repository_id: id })) as { data: { full_name: string } };
  return response.data.full_name;
}

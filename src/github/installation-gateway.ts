/**
 * A GitHubGateway for any repository of any installation, outside a webhook: for the workers'
 * reports and the background jobs, which only know a grant's tenant (installation id) and repo.
 */
import type { Probot } from "probot";
import { cachedAppIdentity } from "./app-identity.js";
import type { GitHubGateway } from "./gateway.js";
import { OctokitGateway } from "./octokit-gateway.js";

export function installationGateways(probot: Probot): (tenant: string, repoFullName: string) => Promise<GitHubGateway> {
  const identity = cachedAppIdentity(() => probot.auth());
  const botLogin = async () => (await identity()).botLogin;
  return async (tenant, repoFullName) => {
    const [owner, repo] = repoFullName.split("/");
    if (!owner || !repo) throw new Error(`"${repoFullName}" is not owner/name`);
    // Probot caches installation tokens and refreshes them before they expire.
    return new OctokitGateway(await probot.auth(Number(tenant)), owner, repo, botLogin);
  };
}

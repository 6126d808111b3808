/**
 * Grants recorded before jitsudo kept repository ids carry only the repository's name then. Names
 * move (a rename) and are reused (a new repository taking the old name), so such a grant is acted
 * on (revoked by command or by a merged deletion) only after its repository is proven by GitHub
 * itself: the repository whose pull request #N was merged as the grant's merge commit adopts it.
 * A new repository that took the name has no such merge and adopts nothing.
 */
import type { Knex } from "knex";
import { adoptLegacyMerge, legacyGrantMerges } from "../grants/grant-repository.js";
import type { Log } from "../observability/logger.js";
import type { GitHubGateway } from "./gateway.js";

export async function adoptLegacyGrants(db: Knex, gateway: GitHubGateway, tenant: number, repositoryId: number, log: Log): Promise<number> {
  const legacy = await legacyGrantMerges(db, tenant);
  if (legacy.length === 0) return 0;
  let adopted = 0;
  for (const { pr_number: number, merge_commit_sha: sha } of legacy) {
    const pull = await gateway.getPullRequest(number).catch(() => undefined);
    if (pull?.merge?.commitSha !== sha) continue;
    adopted += await adoptLegacyMerge(db, { tenant, prNumber: number, mergeCommitSha: sha }, repositoryId);
  }
  if (adopted > 0)
    log.info({ tenant, repositoryId, adopted }, "grants recorded before repository ids were kept adopted by their repository");
  return adopted;
}

/**
 * A push to the default branch that changes `.github/jitsudo.yml` (a merged policy pull request,
 * or a direct push) updates the worker's copy of the tenant config at once; merges of access
 * requests refresh it too (from the config at their base).
 */
import type { Knex } from "knex";
import { recordTenantConfig } from "../config/tenant-snapshots.js";
import { TENANT_CONFIG_PATH } from "../config/tenant.js";
import type { GitHubGateway } from "./gateway.js";
import type { PushedCommit } from "./direct-push.js";

const CONFIG_MAX_BYTES = 256 * 1024;

export async function syncTenantConfig(
  gateway: GitHubGateway,
  push: { tenant: number; repositoryId: number; repoFullName: string; after: string; commits: readonly PushedCommit[]; pushedAt: Date },
  deps: { db: Knex },
): Promise<"unchanged" | "recorded" | "removed-or-unreadable"> {
  const touched = push.commits.some((commit) =>
    [...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])].includes(TENANT_CONFIG_PATH),
  );
  if (!touched) return "unchanged";
  const [file] = await gateway.readFiles([{ ref: push.after, path: TENANT_CONFIG_PATH, maxBytes: CONFIG_MAX_BYTES }]);
  // A removed or oversized config leaves the last good copy: drift only narrows with a config it can read.
  if (file?.kind !== "file") return "removed-or-unreadable";
  await recordTenantConfig(deps.db, {
    tenant: push.tenant,
    repositoryId: push.repositoryId,
    repo: push.repoFullName,
    commitSha: push.after,
    content: new TextDecoder().decode(file.bytes),
    readAt: push.pushedAt,
  });
  return "recorded";
}

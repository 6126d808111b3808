/**
 * The tenant config each installation's default branch holds, as last seen: recorded when a merge
 * is judged (the config at its base) and when a push changes `.github/jitsudo.yml`. The worker's
 * drift job reads it to know which permission sets jitsudo manages and what to do about
 * assignments no grant explains, without asking GitHub every cycle.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { parseTenantConfig, type TenantConfig } from "./tenant.js";

export interface TenantSnapshot {
  tenant: string;
  /** GitHub's repository id: the tenant is the repository, whatever its name is now. */
  repositoryId: string;
  repo: string;
  commitSha: string;
  /** Undefined when the file does not parse: drift then only flags, and manages only what grants name. */
  config?: TenantConfig;
}

/** Keeps the newest reading per repository (by id); an older one arriving late changes nothing. */
export async function recordTenantConfig(
  db: Knex,
  snapshot: { tenant: number | string; repositoryId: number; repo: string; commitSha: string; content: string; readAt: Date },
): Promise<void> {
  await db("tenant_configs")
    .insert({
      tenant: snapshot.tenant,
      repository_id: snapshot.repositoryId,
      repo: snapshot.repo,
      commit_sha: snapshot.commitSha,
      content: snapshot.content,
      read_at: snapshot.readAt,
    })
    .onConflict(["repository_id"])
    .merge()
    // At the same instant, the later call wins (it handled the later delivery).
    .where("tenant_configs.read_at", "<=", snapshot.readAt);
}

export async function tenantSnapshots(db: Knex): Promise<TenantSnapshot[]> {
  const rows = await rowsAs<
    {
      tenant: string;
      repository_id: string;
      repo: string;
      commit_sha: string;
      content: string;
    }[]
  >(db("tenant_configs").select("tenant", "repository_id", "repo", "commit_sha", "content"));
  return rows.map((row) => {
    const parsed = parseTenantConfig(new TextEncoder().encode(row.content));
    return {
      tenant: String(row.tenant),
      repositoryId: String(row.repository_id),
      repo: row.repo,
      commitSha: row.commit_sha,
      ...(parsed.ok ? { config: parsed.config } : {}),
    };
  });
}

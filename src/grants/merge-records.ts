/**
 * The merge records besides grants: which merges have a verdict (`merge_verdicts`, written with
 * their grants by `recordMerge`), which verdict comments are still owed, and how far the catch-up
 * scan has read each repository (`merge_scan_cursors`). Every SQL statement on those tables is here.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { sameRepository } from "./grant-repository.js";

export interface RepositoryKey {
  tenant: number;
  repositoryId: number;
  repo: string;
}

/** Whether this merge of this repository (by id, so across renames) already has a verdict. */
export async function hasVerdict(db: Knex, repository: RepositoryKey, prNumber: number, mergeCommitSha: string): Promise<boolean> {
  const found = await rowsAs<{ pr_number: number } | undefined>(
    db("merge_verdicts")
      .where({ tenant: repository.tenant, pr_number: prNumber, merge_commit_sha: mergeCommitSha })
      .where(sameRepository(repository))
      .first("pr_number"),
  );
  return found !== undefined;
}

/** The merges among these that have no verdict yet. */
export async function mergesWithoutVerdict<T extends { number: number; sha: string }>(
  db: Knex,
  repository: RepositoryKey,
  merges: readonly T[],
): Promise<T[]> {
  if (merges.length === 0) return [];
  const recorded = await rowsAs<{ pr_number: number; merge_commit_sha: string }[]>(
    db("merge_verdicts")
      .where({ tenant: repository.tenant })
      .where(sameRepository(repository))
      .whereIn(
        "pr_number",
        merges.map((merge) => merge.number),
      )
      .select("pr_number", "merge_commit_sha"),
  );
  const seen = new Set(recorded.map((row) => `${row.pr_number}:${row.merge_commit_sha}`));
  return merges.filter((merge) => !seen.has(`${merge.number}:${merge.sha}`));
}

export interface VerdictKey {
  tenant: number | string;
  repositoryId: number | string | null;
  prNumber: number;
  mergeCommitSha: string;
}

export async function markVerdictCommentSent(db: Knex, key: VerdictKey): Promise<void> {
  await db("merge_verdicts")
    .where({
      tenant: key.tenant,
      pr_number: key.prNumber,
      merge_commit_sha: key.mergeCommitSha,
      ...(key.repositoryId === null ? {} : { repository_id: key.repositoryId }),
    })
    .update({ comment_sent_at: db.fn.now() });
}

export interface OwedComment {
  tenant: string;
  repository_id: string | null;
  repo: string;
  pr_number: number;
  merge_commit_sha: string;
  comment_body: string;
}

/**
 * Verdict comments still owed, oldest first (at most 50): recorded between `maxAgeMs` and
 * `graceMs` ago and never sent. Merges that recorded grants are left out: their grant reports
 * rewrite the same sticky comment, and a late verdict comment would overwrite a newer report.
 */
export async function owedVerdictComments(db: Knex, graceMs: number, maxAgeMs: number): Promise<OwedComment[]> {
  const { rows } = await db.raw<{ rows: OwedComment[] }>(
    `select v.tenant, v.repository_id, v.repo, v.pr_number, v.merge_commit_sha, v.comment_body
       from merge_verdicts v
      where v.comment_body is not null and v.comment_sent_at is null
        and v.processed_at <= now() - ? * interval '1 millisecond'
        and v.processed_at > now() - ? * interval '1 millisecond'
        and not exists (select 1 from grants g where g.tenant = v.tenant and g.pr_number = v.pr_number and g.merge_commit_sha = v.merge_commit_sha)
      order by v.processed_at
      limit 50`,
    [graceMs, maxAgeMs],
  );
  return rows;
}

/** Until when the catch-up scan has read the repository's merges (by id: a renamed repository keeps its cursor). */
export async function scannedUntil(db: Knex, repository: RepositoryKey): Promise<Date | undefined> {
  const cursor = await rowsAs<{ scanned_until: Date } | undefined>(
    db("merge_scan_cursors")
      .where({ tenant: repository.tenant })
      .where(sameRepository(repository))
      .orderBy("scanned_until", "desc")
      .first(),
  );
  return cursor?.scanned_until;
}

export async function saveScannedUntil(db: Knex, repository: RepositoryKey, until: Date): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("merge_scan_cursors").where({ tenant: repository.tenant }).where(sameRepository(repository)).delete();
    await trx("merge_scan_cursors")
      .insert({
        tenant: repository.tenant,
        repository_id: repository.repositoryId,
        repo: repository.repo,
        scanned_until: until,
        updated_at: trx.fn.now(),
      })
      .onConflict(["tenant", "repo"])
      .merge();
  });
}

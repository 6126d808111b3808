/**
 * Lost merge webhooks, the last net. GitHub does not redeliver a webhook that failed on its own
 * (jitsudo down, a network cut, a deploy): the redelivery job asks it to, and this job reads each
 * repository's recently closed pull requests and puts every merge that has no recorded verdict
 * into the webhook inbox, where it is judged exactly as its webhook would have been
 * (`processMerge`), in order with the pull request's other events.
 *
 * Per repository it keeps a cursor (`merge_scan_cursors.scanned_until`): every pull request
 * updated before it has been looked at. A scan reads back to the cursor (less an overlap for clock
 * skew between GitHub and us), bounded by a number of pages; only a complete scan moves the cursor.
 * The first scan of a repository looks back a bounded window, so installing jitsudo never turns
 * old merges into fresh access.
 */
import type { Knex } from "knex";
import type { Probot, ProbotOctokit } from "probot";
import { cachedAppIdentity } from "../github/app-identity.js";
import type { GitHubGateway } from "../github/gateway.js";
import { MERGE_FOUND, type MergeFoundPayload } from "../inbox/events.js";
import { OctokitGateway } from "../github/octokit-gateway.js";
import { AccessRepositories } from "../config/access-repositories.js";
import { mergesWithoutVerdict, saveScannedUntil, scannedUntil } from "../grants/merge-records.js";
import { inboxEntryFor } from "../inbox/deliveries.js";
import { storeDelivery } from "../inbox/inbox-store.js";
import type { Log } from "../observability/logger.js";

export interface CatchUpOptions {
  db: Knex;
  now: () => Date;
  log: Log;
  /** How far back the first scan of a repository looks. */
  initialLookbackMs?: number;
  /** Pages of 100 pull requests read per repository and scan. */
  maxPages?: number;
  /** JITSUDO_ACCESS_REPOSITORIES: other repositories are not scanned at all. */
  accessRepositories?: readonly string[];
}

export const DEFAULT_INITIAL_LOOKBACK_MS = 60 * 60_000;
export const DEFAULT_MAX_PAGES = 5;
/** GitHub's clock and ours differ a little; read a bit before the cursor. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface RepositoryRef {
  tenant: number;
  /** GitHub's numeric repository id, as in webhooks. */
  id: number;
  fullName: string;
  defaultBranch: string;
}

export interface RepositoryScan {
  repo: string;
  /** Merges found without a verdict: put into the inbox, or already there (found by an earlier scan). */
  found: { number: number; outcome: "queued" | "already-queued" }[];
  /** False when the page bound cut the scan short: the cursor stays. */
  complete: boolean;
}

export async function catchUpRepository(
  gateway: GitHubGateway,
  repository: RepositoryRef,
  options: CatchUpOptions,
): Promise<RepositoryScan> {
  const { db, log } = options;
  const startedAt = options.now();
  // By id: a renamed repository keeps its cursor, so its past merges are not read again.
  const key = { tenant: repository.tenant, repositoryId: repository.id, repo: repository.fullName };
  const scanned = await scannedUntil(db, key);
  const since = scanned
    ? new Date(scanned.getTime() - CLOCK_SKEW_MS)
    : new Date(startedAt.getTime() - (options.initialLookbackMs ?? DEFAULT_INITIAL_LOOKBACK_MS));

  const listed = await gateway.closedPullRequestsSince(since, options.maxPages ?? DEFAULT_MAX_PAGES);
  const merged = listed.pulls.filter((pull) => pull.merge && pull.merge.mergedAt >= since);
  const unjudged = await mergesWithoutVerdict(
    db,
    key,
    merged.map((pull) => ({ number: pull.number, sha: pull.merge!.commitSha, mergedAt: pull.merge!.mergedAt })),
  );

  const found: RepositoryScan["found"] = [];
  // Oldest merge first: if one file is edited by two lost merges, the later one must supersede.
  const [owner = "", name = ""] = repository.fullName.split("/");
  for (const { number, sha } of unjudged.sort((a, b) => a.mergedAt.getTime() - b.mergedAt.getTime())) {
    const payload: MergeFoundPayload = {
      installation: { id: repository.tenant },
      repository: {
        id: repository.id,
        name,
        full_name: repository.fullName,
        default_branch: repository.defaultBranch,
        owner: { login: owner },
      },
      pull_request: { number, merge_commit_sha: sha },
    };
    // One id per merge: a later scan finding it again (still unjudged) adds nothing.
    const entry = inboxEntryFor({ id: `catch-up:${repository.id}:${number}:${sha}`, name: MERGE_FOUND, payload })!;
    const queued = await storeDelivery(db, entry);
    if (queued)
      log.warn({ repo: repository.fullName, pr: number }, "merge without a delivered webhook found by the catch-up scan; judging it");
    found.push({ number, outcome: queued ? "queued" : "already-queued" });
  }

  if (listed.complete) {
    await saveScannedUntil(db, key, startedAt);
  } else {
    log.warn(
      { repo: repository.fullName, since },
      "catch-up scan hit its page bound; the cursor stays, older merges are read on the next scans",
    );
  }
  return { repo: repository.fullName, found, complete: listed.complete };
}

type Octokit = InstanceType<typeof ProbotOctokit>;

/** One scan of every repository of every installation of the app. */
export async function catchUpMerges(probot: Probot, options: CatchUpOptions): Promise<RepositoryScan[]> {
  const appOctokit: Octokit = await probot.auth();
  const identity = cachedAppIdentity(() => Promise.resolve(appOctokit));
  const botLogin = async () => (await identity()).botLogin;
  const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, { per_page: 100 });
  const scans: RepositoryScan[] = [];
  const access = new AccessRepositories(options.accessRepositories, options.db);
  for (const installation of installations) {
    try {
      const octokit: Octokit = await probot.auth(installation.id);
      const repositories = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, { per_page: 100 });
      for (const repository of repositories) {
        if (!(await access.allows({ id: repository.id, fullName: repository.full_name }))) continue;
        const gateway = new OctokitGateway(octokit, repository.owner.login, repository.name, botLogin);
        const ref = {
          tenant: installation.id,
          id: repository.id,
          fullName: repository.full_name,
          defaultBranch: repository.default_branch,
        };
        scans.push(await catchUpRepository(gateway, ref, options));
      }
    } catch (error) {
      // One installation's trouble (suspended, revoked token) must not stop the others' scans.
      options.log.error({ err: error, installation: installation.id }, "catch-up scan of an installation failed");
    }
  }
  return scans;
}

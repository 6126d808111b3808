/**
 * The sticky comment after the merge: every grant of the pull request with its current state
 * ("active until 14:32 UTC", "revoked at …", "failed: <reason>"), rendered from the database each
 * time, so a report that was lost or arrived out of order is corrected by the next one.
 *
 * Reports are coalesced per pull request (a merge of ten files going active is one edit, not
 * ten; a pull request that changes while its report waits gets one report of its latest state)
 * and sent in the background, a few at a time: GitHub being slow or down never holds up AWS work,
 * and a stream of changes faster than GitHub takes writes costs a small entry per pull request,
 * not a queued request per change.
 */
import type { Knex } from "knex";
import type { GrantReporter } from "../grants/reporter.js";
import { grantsForReport, type GrantRow } from "../grants/grant-repository.js";
import { extensionLinks, NO_EXTENSION_LINKS, type ExtensionLink, type ExtensionLinks } from "../grants/extension-store.js";
import type { Log } from "../observability/logger.js";
import { COMMANDS_HELP } from "./revoke-command.js";
import type { GitHubGateway } from "./gateway.js";
import { code, shortSha, table, text, utc } from "./markdown.js";
import { BackgroundWork } from "./background-work.js";
import { ownerGroupsLine, upsertStickyComment } from "./sticky-comment.js";
import { sessionsEnd } from "../grants/access-end.js";
import { formatSessionDuration } from "../aws/session-duration.js";

export interface PullRequestReporterOptions {
  db: Knex;
  /** A gateway for a repository of an installation, found by id (names move) or, for grants recorded before ids were kept, by name. */
  gatewayFor(tenant: string, repository: RepositoryRef): Promise<GitHubGateway>;
  log: Log;
  /** Reports for one PR within this window become one edit. */
  coalesceMs?: number;
}

/** A repository as a grant recorded it: GitHub's id (null for grants from before ids were kept) and the name then. */
export interface RepositoryRef {
  id: string | null;
  fullName: string;
}

interface Target {
  tenant: string;
  repository: RepositoryRef;
  pr: number;
}

/**
 * Reports sent at once. GitHub takes an installation's writes a second apart, so more in flight
 * only queue in its client (each holding that client and its rendered comment) while newer states
 * of the same pull requests pile up behind them.
 */
const REPORTS_IN_FLIGHT = 4;

export class PullRequestReporter implements GrantReporter {
  /** Pull requests whose comment is behind their grants, oldest change first; latest wins (the comment is rendered from the database when sent). */
  private readonly waiting = new Map<string, Target>();
  /** Pull requests with a report on its way: a change meanwhile waits for it, then is sent. */
  private readonly sending = new Set<string>();
  private readonly inFlight: BackgroundWork;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PullRequestReporterOptions) {
    this.inFlight = new BackgroundWork(options.log);
  }

  changed(grant: Pick<GrantRow, "tenant" | "repository_id" | "repo" | "pr_number">): void {
    const repository = { id: grant.repository_id === null ? null : String(grant.repository_id), fullName: grant.repo };
    const key = `${grant.tenant}|${repository.id ?? repository.fullName}|${grant.pr_number}`;
    if (!this.waiting.has(key)) this.waiting.set(key, { tenant: String(grant.tenant), repository, pr: grant.pr_number });
    this.timer ??= setTimeout(() => this.send(), this.options.coalesceMs ?? 300);
  }

  async flush(timeoutMs?: number): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.send();
    }
    await this.inFlight.flush(timeoutMs);
  }

  private send(): void {
    this.timer = undefined;
    this.pump();
  }

  private pump(): void {
    for (const [key, target] of this.waiting) {
      if (this.sending.size >= REPORTS_IN_FLIGHT) return;
      if (this.sending.has(key)) continue;
      this.waiting.delete(key);
      this.sending.add(key);
      // A failure is logged; the next change of the PR renders the whole comment again.
      this.inFlight.run("updating the pull request comment", { repo: target.repository.fullName, pr: target.pr }, async () => {
        try {
          await this.report(target);
        } finally {
          this.sending.delete(key);
          this.pump();
        }
      });
    }
  }

  private async report({ tenant, repository, pr }: Target): Promise<void> {
    // The grants of this repository by id: a new repository that took the name is another one.
    const { grants, repairs } = await grantsForReport(this.options.db, {
      tenant,
      repositoryId: repository.id,
      repo: repository.fullName,
      prNumber: pr,
    });
    if (grants.length === 0) return;
    const links = await extensionLinks(this.options.db, grants);
    const gateway = await this.options.gatewayFor(tenant, repository);
    await upsertStickyComment(
      gateway,
      pr,
      renderGrantsComment(grants, new Map(repairs.map((repair) => [repair.grant_id, repair.created_at])), links),
    );
  }
}

const HEADLINES: [test: (statuses: Set<string>) => boolean, headline: string][] = [
  [(s) => s.has("failed"), "access failed :x:"],
  [(s) => s.has("revoking"), "access being removed :hourglass:"],
  [(s) => s.has("active"), "access active :white_check_mark:"],
  [(s) => s.has("provisioning") || s.has("approved"), "access approved, being provisioned :hourglass:"],
];

/**
 * The comment for a PR's grants as they are now; `repairedAt`: when drift last re-created a grant's
 * assignment; `links`: the extensions of these grants, and the grants these extend.
 */
export function renderGrantsComment(
  grants: readonly GrantRow[],
  repairedAt: ReadonlyMap<string, Date> = new Map(),
  links: ExtensionLinks = NO_EXTENSION_LINKS,
): string {
  const statuses = new Set(grants.map((grant) => grant.status));
  const headline = HEADLINES.find(([test]) => test(statuses))?.[1] ?? "access ended";
  const merge = grants[0]!.merge_commit_sha;
  const out = [`### jitsudo: ${headline}`, "", `Merged as ${code(shortSha(merge))} and approved by ${mentions(grants[0]!.approvers)}.`];
  for (const grant of grants) {
    const rows: [string, string][] = [
      ["Status", statusLine(grant, links.extendedBy.get(grant.id))],
      ["Principal", code(grant.principal)],
      [
        "Account",
        code(grant.account_id && grant.account_id !== grant.account_ref ? `${grant.account_ref} (${grant.account_id})` : grant.account_ref),
      ],
      ["Permission set", code(grant.permission_set_ref)],
      ["Access", `${utc(grant.starts_at)} to ${utc(grant.expires_at)}`],
      ["Approved by", mentions(grant.approvers)],
    ];
    const groups = grant.approver_sets?.[0]?.groups;
    if (groups) rows.push(["Owner groups", ownerGroupsLine(groups)]);
    const extended = links.extends.get(grant.id);
    if (extended) rows.push(["Extends", extendsLine(grant, extended)]);
    const repaired = repairedAt.get(grant.id);
    if (repaired) rows.push(["Drift", `the assignment was deleted outside jitsudo; jitsudo created it again (${utc(repaired)})`]);
    out.push("", `#### ${code(grant.file_path)}`, "", table(rows));
  }
  if (statuses.has("active") || statuses.has("approved") || statuses.has("provisioning")) out.push("", COMMANDS_HELP);
  return out.join("\n");
}

/** What the grant's extension (a merged edit of its file) means for it, said after its status. */
function extensionNote(grant: GrantRow, extension: ExtensionLink | undefined): string {
  if (!extension) return "";
  if (extension.status === "approved" || extension.status === "provisioning")
    return `; being extended by #${extension.pr_number}: the assignment stays in place until the new grant takes over`;
  if (extension.status === "failed" || extension.status === "revoked" || extension.status === "rejected")
    return `; its extension by #${extension.pr_number} did not take effect, so this access ends ${utc(grant.expires_at)}`;
  return "";
}

/** For an extension: the grant it carried on, and whether the assignment stayed. */
function extendsLine(grant: GrantRow, old: ExtensionLink): string {
  if (old.superseded_by === grant.id && old.status === "expired")
    return `extends #${old.pr_number}'s grant; the assignment stayed in place (no interruption)`;
  if (old.superseded_by === grant.id && old.status === "active")
    return `extends #${old.pr_number}'s grant, which stays active, its assignment in place, until this one takes over`;
  return `#${old.pr_number}'s grant (${old.status})`;
}

function statusLine(grant: GrantRow, extension?: ExtensionLink): string {
  if (grant.status === "expired" && extension && extension.status !== "failed" && extension.status !== "revoked")
    return `extended by #${extension.pr_number} without interruption at ${utc(grant.ended_at ?? grant.updated_at)}; the assignment stayed in place`;
  if (grant.status === "active")
    return `**active** until ${utc(grant.expires_at)}${sessionsOutlast(grant, grant.expires_at, "then")}${extensionNote(grant, extension)}`;
  switch (grant.status) {
    case "approved":
      return `approved: starts ${utc(grant.starts_at)}`;
    case "provisioning":
      return grant.last_error ? `provisioning (retrying: ${text(grant.last_error)})` : "provisioning: creating the assignment";
    case "revoking":
      if (grant.attempts > 0 && grant.last_error)
        return `:warning: **removal failing, still assigned**: ${text(grant.last_error)} (attempt ${grant.attempts}; jitsudo keeps retrying)`;
      // Provisioning was given up after a create may have been sent: the removal is being confirmed.
      if (!grant.active_at && grant.last_error) return `**failed**: ${text(grant.last_error)}; making sure nothing is left assigned`;
      return `revoking: removing the assignment${removalOutlasted(grant)}`;
    case "revoked": {
      const ended = grant.ended_at ?? grant.updated_at;
      if (!grant.active_at && grant.last_error)
        return `**failed**: ${text(grant.last_error)}; nothing is left assigned (confirmed ${utc(ended)})${grant.create_requested_at ? sessionsOutlast(grant, ended, utc(ended), "if the assignment existed meanwhile, ") : ""}`;
      return `revoked at ${utc(ended)}${sessionsOutlast(grant, ended, utc(ended))}`;
    }
    case "expired":
      return `ended at ${utc(grant.ended_at ?? grant.updated_at)}; the assignment stays for another live grant`;
    case "failed":
      return `**failed**: ${text(grant.last_error ?? "no reason recorded")}`;
    case "rejected":
      return "rejected";
  }
}

/**
 * The truth about the end of access: deleting the assignment (at `end`, named `before`: "then" or
 * the time) does not end sessions already opened, which last up to the permission set's session
 * duration (see access-end.ts); said as a bound when the session duration was never read.
 */
function sessionsOutlast(grant: GrantRow, end: Date, before: string, condition = ""): string {
  const seconds = grant.session_duration_seconds ?? null;
  if (seconds === null)
    return `; ${condition}sessions opened before ${before} can last up to the permission set's session duration (1 to 12 hours) longer`;
  return `; ${condition}sessions opened before ${before} can last until ${utc(sessionsEnd(end, seconds))} (the permission set's session duration is ${formatSessionDuration(seconds)})`;
}

/** While the removal is under way, its end is not known yet; the session duration is. */
function removalOutlasted(grant: GrantRow): string {
  const seconds = grant.session_duration_seconds ?? null;
  if (seconds === null) return "";
  return `; sessions opened before it is removed can last ${formatSessionDuration(seconds)} after that`;
}

function mentions(logins: readonly string[]): string {
  return logins.length ? logins.map((login) => `@${login}`).join(", ") : "nobody";
}

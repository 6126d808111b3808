/**
 * The expiry reminder on a grant's pull request: a new comment (an edit of the sticky one would
 * notify nobody) that mentions the requester, says when the access ends and how to extend it.
 * Each carries a hidden marker with its grant's id; a post whose success was not recorded (the
 * replica died, the database did not answer) is found by it, with the app's own login, and not
 * repeated.
 */
import type { GrantRow } from "../grants/grant-repository.js";
import type { ReminderPoster } from "../grants/reporter.js";
import type { GitHubGateway } from "./gateway.js";
import { code, table, text, utc } from "./markdown.js";

export function reminderMarker(grantId: string): string {
  return `<!-- jitsudo:reminder:${grantId} -->`;
}

/** A GitHub login is letters, digits and single hyphens: anything else is not mentioned. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

type ReminderGrant = Pick<
  GrantRow,
  "id" | "requester" | "principal" | "account_ref" | "account_id" | "permission_set_ref" | "file_path" | "expires_at"
>;

export function renderReminderComment(grant: ReminderGrant): string {
  const who = LOGIN.test(grant.requester) ? `@${grant.requester}` : text(grant.requester);
  const account =
    grant.account_id && grant.account_id !== grant.account_ref ? `${grant.account_ref} (${grant.account_id})` : grant.account_ref;
  return [
    reminderMarker(grant.id),
    "### jitsudo: access ends soon :alarm_clock:",
    "",
    `${who}, the access this pull request granted ends at **${utc(grant.expires_at)}**.`,
    "",
    table([
      ["Principal", code(grant.principal)],
      ["Account", code(account)],
      ["Permission set", code(grant.permission_set_ref)],
      ["Ends", utc(grant.expires_at)],
    ]),
    "",
    `**To extend it**, open a pull request that edits ${code("duration")} in ${code(grant.file_path)} (same account, permission set and principal, no ${code("starts_at")} in the future), and have it approved and merged before then: the new grant takes over without interruption, the assignment staying in place. If you are done, nothing to do; ${code("/jitsudo revoke")} ends it now.`,
  ].join("\n");
}

export interface GitHubReminderPosterOptions {
  /** As PullRequestReporter's (installationGateways); the repository by GitHub's id, or by name for old grants. */
  gatewayFor(tenant: string, repository: { id: string | null; fullName: string }): Promise<GitHubGateway>;
}

/** The gateway of a grant's repository, through its installation. */
export function gatewayOfGrant(
  options: GitHubReminderPosterOptions,
  grant: Pick<GrantRow, "tenant" | "repository_id" | "repo">,
): Promise<GitHubGateway> {
  return options.gatewayFor(String(grant.tenant), {
    id: grant.repository_id === null ? null : String(grant.repository_id),
    fullName: grant.repo,
  });
}

export class GitHubReminderPoster implements ReminderPoster {
  constructor(private readonly options: GitHubReminderPosterOptions) {}

  async post(grant: GrantRow): Promise<void> {
    const gateway = await gatewayOfGrant(this.options, grant);
    const marker = reminderMarker(grant.id);
    const [comments, botLogin] = await Promise.all([gateway.listIssueComments(grant.pr_number), gateway.botLogin()]);
    // Posted before, its success never recorded: nothing more to say.
    if (comments.some((comment) => comment.authorLogin === botLogin && comment.body.startsWith(marker))) return;
    await gateway.createIssueComment(grant.pr_number, renderReminderComment(grant));
  }
}

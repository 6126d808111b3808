/**
 * `/jitsudo revoke` in a comment on the pull request that granted access ends that access early.
 * Only the requester or a current code owner of the request file may do it; anyone else's command
 * gets a 👎 reaction and changes nothing. Revoking is the safe direction, so it needs no second
 * approval.
 *
 * Every command gets a 👀 reaction the moment it is read (the sender knows it was seen, even if
 * what follows fails), then one for the outcome. Commands are case-insensitive, as people type
 * them. An unknown command gets a 😕, and a short reply listing the commands at most once an hour
 * per pull request: anyone can comment, and the bot must not become a way to flood a pull request.
 */
import type { Knex } from "knex";
import { readWholeCodeowners } from "../approval/governance.js";
import { ownsUnderAnyReading } from "../approval/owner-check.js";
import { endEarlyByCommand, isRequester, notEndedGrantsOfPullRequest, type GrantRow } from "../grants/grant-repository.js";
import { reviewBreakGlass } from "./break-glass-review.js";
import { claimReply } from "./command-replies.js";
import { adoptLegacyGrants } from "./legacy-grants.js";
import { branchRef, type GitHubGateway } from "./gateway.js";
import { code, table, utc } from "./markdown.js";
import { upsertStickyComment } from "./sticky-comment.js";
import type { Log } from "../observability/logger.js";

export type Command = { kind: "revoke" } | { kind: "ack" } | { kind: "unknown"; text: string } | { kind: "none" };

/** The command in a comment: its first line, if it starts with /jitsudo. */
export function parseCommand(body: string): Command {
  const firstLine = body.trim().split(/\r?\n/, 1)[0]?.trim() ?? "";
  if (!/^\/jitsudo(\s|$)/i.test(firstLine)) return { kind: "none" };
  const words = firstLine.split(/\s+/).slice(1);
  if (words.length === 1 && words[0]!.toLowerCase() === "revoke") return { kind: "revoke" };
  if (words.length === 1 && words[0]!.toLowerCase() === "ack") return { kind: "ack" };
  return { kind: "unknown", text: firstLine.slice(0, 100) };
}

export const COMMANDS_HELP =
  "Commands: `/jitsudo revoke` ends this pull request's access early (the requester or a code owner of the request file); `/jitsudo ack` records a code owner's review of break-glass access granted by this pull request.";

export interface CommentCommand {
  tenant: number;
  repositoryId: number;
  repoFullName: string;
  defaultBranch: string;
  pullNumber: number;
  commentId: number;
  commenter: string;
  /** GitHub's user id of the commenter: logins can be renamed and reused. */
  commenterId?: number;
  body: string;
}

export type CommandOutcome = "revoked" | "reviewed" | "nothing-live" | "refused" | "help" | "ignored";

/** At most one help reply per pull request in this long. */
export const HELP_REPLY_INTERVAL_MS = 60 * 60_000;

export async function handleCommentCommand(
  gateway: GitHubGateway,
  command: CommentCommand,
  deps: { db: Knex; log: Log; now: () => Date },
): Promise<CommandOutcome> {
  const parsed = parseCommand(command.body);
  if (parsed.kind === "none") return "ignored";
  await gateway.reactToComment(command.commentId, "eyes");
  if (parsed.kind === "unknown") {
    await gateway.reactToComment(command.commentId, "confused");
    if (await claimHelpReply(deps.db, command, deps.now())) {
      await gateway.createIssueComment(
        command.pullNumber,
        `@${command.commenter} jitsudo does not know ${code(parsed.text)}. ${COMMANDS_HELP}`,
      );
    }
    return "help";
  }
  if (parsed.kind === "ack") return acknowledge(gateway, command, deps);

  await adoptLegacyGrants(deps.db, gateway, command.tenant, command.repositoryId, deps.log);
  const grants = await notEndedGrantsOfPullRequest(deps.db, command.repositoryId, command.pullNumber, command.tenant);
  if (grants.length === 0) {
    await gateway.reactToComment(command.commentId, "confused");
    return "nothing-live";
  }
  if (!(await mayRevoke(gateway, command, grants))) {
    deps.log.warn({ pr: command.pullNumber, commenter: command.commenter }, "revoke refused: not the requester or a code owner");
    await gateway.reactToComment(command.commentId, "-1");
    return "refused";
  }

  const ended = await endEarlyByCommand(deps.db, grants, {
    type: "revoke_requested",
    actor: command.commenter,
    reason: `/jitsudo revoke by @${command.commenter}`,
  });
  await gateway.reactToComment(command.commentId, "+1");
  await upsertStickyComment(gateway, command.pullNumber, renderRevokeComment(command.commenter, ended));
  deps.log.info({ pr: command.pullNumber, commenter: command.commenter, grants: ended.map((entry) => entry.grant.id) }, "revoke requested");
  return "revoked";
}

/** `/jitsudo ack`: a code owner's review of the pull request's break-glass access (break-glass-review.ts). */
async function acknowledge(
  gateway: GitHubGateway,
  command: CommentCommand,
  deps: { db: Knex; log: Log; now: () => Date },
): Promise<CommandOutcome> {
  const outcome = await reviewBreakGlass(
    gateway,
    {
      tenant: command.tenant,
      repositoryId: command.repositoryId,
      pullNumber: command.pullNumber,
      reviewer: command.commenter,
      ...(command.commenterId !== undefined ? { reviewerId: command.commenterId } : {}),
      how: "ack",
    },
    deps,
  );
  if (outcome.kind === "reviewed") {
    await gateway.reactToComment(command.commentId, "+1");
    return "reviewed";
  }
  await gateway.reactToComment(command.commentId, outcome.kind === "refused" ? "-1" : "confused");
  return outcome.kind === "refused" ? "refused" : "nothing-live";
}

/** True (and recorded) when this pull request has had no help reply within the last hour. */
async function claimHelpReply(db: Knex, command: CommentCommand, now: Date): Promise<boolean> {
  return claimReply(db, command, "help", now, new Date(now.getTime() - HELP_REPLY_INTERVAL_MS));
}

/**
 * The requester of every live grant here, an admin or maintainer of the repository, or a code owner
 * (at the default branch now) of each file. Revoking is the safe direction, so this fails OPEN where
 * approvals fail closed: CODEOWNERS lines GitHub skips, errors GitHub reports (an owner who lost
 * access, perhaps the requester themselves) and ambiguous readings never stop an owner under any
 * reading from ending access early.
 */
async function mayRevoke(gateway: GitHubGateway, command: CommentCommand, grants: readonly GrantRow[]): Promise<boolean> {
  const login = command.commenter.toLowerCase();
  if (grants.every((grant) => isRequester(grant, command.commenter, command.commenterId))) return true;
  const permission = await gateway.repoPermission(login);
  if (permission === "admin" || permission === "maintain") return true;
  // A code owner acts as one only with write access, as GitHub's own CODEOWNERS does.
  if (permission !== "write") return false;
  // The whole file, past jitsudo's rule cap: GitHub applies its last matching line, and so does ending access.
  const codeowners = await readWholeCodeowners(gateway, branchRef(command.defaultBranch));
  if (!codeowners) return false;
  for (const path of new Set(grants.map((grant) => grant.file_path))) {
    if (!(await ownsUnderAnyReading(gateway, codeowners, path, login))) return false;
  }
  return true;
}

function renderRevokeComment(commenter: string, ended: readonly { grant: GrantRow; to: string }[]): string {
  const out = ["### jitsudo: access revoked early", "", `@${commenter} asked to end this pull request's access.`];
  for (const { grant, to } of ended) {
    out.push(
      "",
      `#### ${code(grant.file_path)}`,
      "",
      table([
        ["Status", to === "revoked" ? "revoked (it had not started)" : "revoking: the assignment is being removed"],
        ["Principal", code(grant.principal)],
        ["Account", code(grant.account_ref)],
        ["Permission set", code(grant.permission_set_ref)],
        ["Was granted until", utc(new Date(grant.expires_at))],
      ]),
    );
  }
  out.push("", COMMANDS_HELP);
  return out.join("\n");
}

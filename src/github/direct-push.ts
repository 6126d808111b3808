/**
 * Request files pushed straight to the default branch, with no pull request. No code owner
 * approved them, so they grant nothing: grants come only from judged merges. This makes the
 * attempt visible instead of silent: an audit event, and a failing check run on the pushed commit
 * saying that nothing was granted and how to ask for access properly.
 *
 * A pull request's merge also arrives as a push; it is recognised by GitHub naming the pushed
 * commit as the merge commit of a merged pull request (merge, squash or rebase), and left to the
 * merge verdict.
 */
import type { Knex } from "knex";
import { recordDirectPush } from "../grants/grant-repository.js";
import type { Log } from "../observability/logger.js";
import { isRequestFilePath } from "../requests/access-request.js";
import { isGovernancePath } from "../approval/governance.js";
import { CHECK_NAME } from "./check-run.js";
import type { GitHubGateway } from "./gateway.js";
import { code, shortSha, text } from "./markdown.js";

export interface PushedCommit {
  id: string;
  added?: readonly string[];
  modified?: readonly string[];
  removed?: readonly string[];
}

export interface DirectPush {
  tenant: number;
  repositoryId: number;
  repoFullName: string;
  before: string;
  after: string;
  pusher: string;
  commits: readonly PushedCommit[];
}

export type DirectPushOutcome = "no-request-files" | "pull-request-merge" | "already-reported" | "reported";

/** Request and governance files a push adds, changes or removes, each once, sorted. */
export function filesPushed(commits: readonly PushedCommit[]): { requests: string[]; governance: string[] } {
  const touched = new Set(commits.flatMap((commit) => [...(commit.added ?? []), ...(commit.modified ?? []), ...(commit.removed ?? [])]));
  return {
    requests: [...touched].filter(isRequestFilePath).sort(),
    governance: [...touched].filter(isGovernancePath).sort(),
  };
}

export async function reportDirectPush(gateway: GitHubGateway, push: DirectPush, deps: { db: Knex; log: Log }): Promise<DirectPushOutcome> {
  const { requests, governance } = filesPushed(push.commits);
  if (requests.length === 0) return "no-request-files";
  const pulls = await gateway.pullRequestsForCommit(push.after);
  if (pulls.some((pull) => pull.merge?.commitSha === push.after)) return "pull-request-merge";

  // A redelivered push is reported once.
  const recorded = await recordDirectPush(
    deps.db,
    { tenant: push.tenant, repositoryId: push.repositoryId, repo: push.repoFullName, after: push.after, pusher: push.pusher },
    `request files pushed to the default branch without a pull request: ${requests.join(", ")}; nothing granted`,
    { before: push.before, after: push.after, request_files: requests, governance_files: governance },
  );
  if (!recorded) return "already-reported";

  deps.log.warn(
    { repo: push.repoFullName, after: push.after, pusher: push.pusher, files: requests },
    "request files pushed without a pull request: nothing granted",
  );
  await gateway.publishCheckRun({
    name: CHECK_NAME,
    headSha: push.after,
    conclusion: "failure",
    externalId: `push-${push.after}`,
    output: {
      title: "Pushed without a pull request: nothing granted",
      summary: [
        `@${text(push.pusher)} pushed ${code(shortSha(push.after))} to the default branch, adding, changing or removing request files without a pull request.`,
        "jitsudo grants access only through a merged pull request approved by the files' code owners, so this push grants (and revokes) nothing.",
        "",
        ...requests.map((path) => `- ${code(path)}`),
        ...(governance.length
          ? [
              "",
              `The same push changes ${governance.map(code).join(", ")}; pull requests are judged by the policy and code owners at their base, so this now applies to every later request.`,
            ]
          : []),
        "",
        "To get this access, open a pull request that adds the request file and have a code owner approve it. Branch protection on the default branch keeps this from happening again.",
      ].join("\n"),
    },
  });
  return "reported";
}

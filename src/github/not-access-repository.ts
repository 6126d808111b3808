/**
 * A repository the operator did not list in JITSUDO_ACCESS_REPOSITORIES. Apps are often installed
 * on "All repositories", and anyone who can create a repository could write their own
 * `.github/jitsudo.yml` and CODEOWNERS there; so such a repository never records or grants anything.
 * A pull request there that looks like an access request gets a neutral check saying so, and how
 * to make the repository an access repository, instead of silence.
 */
import { TENANT_CONFIG_PATH } from "../config/tenant.js";
import { touchesRequestFiles } from "../approval/pull-request-review.js";
import { CHECK_NAME } from "./check-run.js";
import type { GitHubGateway } from "./gateway.js";
import type { PullRequestInfo } from "./types.js";
import { code } from "./markdown.js";

export async function reportNotAccessRepository(
  gateway: GitHubGateway,
  pr: PullRequestInfo,
  reason: "not-listed" | "name-taken-by-another-repository" = "not-listed",
): Promise<"reported" | "unrelated"> {
  const files = await gateway.listPullRequestFiles(pr.number);
  if (!touchesRequestFiles(files) && !files.some((file) => file.path === TENANT_CONFIG_PATH)) return "unrelated";
  await gateway.publishCheckRun({
    name: CHECK_NAME,
    headSha: pr.headSha,
    conclusion: "neutral",
    externalId: `pr-${pr.number}`,
    output: {
      title: "Not an access repository: nothing here is granted",
      summary: [
        reason === "not-listed"
          ? `${code(`${gateway.owner}/${gateway.repo}`)} is not one of the access repositories this jitsudo deployment grants from, so jitsudo does not check or record requests here, and merging this pull request grants nothing.`
          : `${code(`${gateway.owner}/${gateway.repo}`)} is listed as an access repository, but jitsudo first saw that name on another repository (renamed or deleted since), so it does not trust this one; merging this pull request grants nothing.`,
        "",
        "To request access, open the pull request in your organisation's access repository.",
        reason === "not-listed"
          ? "To make this repository an access repository, the operator of jitsudo adds it to `JITSUDO_ACCESS_REPOSITORIES` and, for AWS, names it in the tenant role's trust policy (ExternalId `jitsudo-<installation id>-<repository id>`)."
          : "If this repository is the access repository now, the operator removes the name's old pin (see jitsudo's README, \"Troubleshooting\") and names this repository in the tenant role's trust policy.",
      ].join("\n"),
    },
  });
  return "reported";
}

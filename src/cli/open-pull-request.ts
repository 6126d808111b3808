/**
 * `jitsudo request --open-pr`: a branch from the default branch's commit the policy was read at,
 * the request file committed on it, and the pull request, all through the GitHub API as the
 * token's person (so the commit and the pull request are theirs, as if they had pushed and opened
 * it themselves). A branch name already taken gets a suffix; nothing already there is overwritten.
 */
import { branchName } from "./request-file.js";
import { failure, fullName, statusOf, type GitHubToken, type Octokit, type RepoName } from "./github-api.js";
import { CliError } from "./tool-io.js";

export interface PullRequestPlan {
  repo: RepoName;
  /** The default branch and the commit the policy was read at: the branch starts there. */
  base: string;
  baseSha: string;
  path: string;
  content: string;
  title: string;
  body: string;
}

export interface OpenedPullRequest {
  url: string;
  number: number;
  branch: string;
}

/** How many suffixes are tried before giving up on a branch name (each is one API call). */
const BRANCH_ATTEMPTS = 20;

export async function openPullRequest(octokit: Octokit, token: GitHubToken, plan: PullRequestPlan): Promise<OpenedPullRequest> {
  const { owner, name: repo } = plan.repo;
  const branch = await createBranch(octokit, token, plan);
  try {
    await octokit.rest.repos.createOrUpdateFileContents({
      owner,
      repo,
      path: plan.path,
      branch,
      message: plan.title,
      content: Buffer.from(plan.content, "utf8").toString("base64"),
    });
  } catch (error) {
    throw failure(
      error,
      `committing ${plan.path} to the new branch ${branch} of ${fullName(plan.repo)} (delete that branch before trying again)`,
      token,
    );
  }
  try {
    const { data } = await octokit.rest.pulls.create({ owner, repo, title: plan.title, head: branch, base: plan.base, body: plan.body });
    return { url: data.html_url, number: data.number, branch };
  } catch (error) {
    throw failure(
      error,
      `opening the pull request from ${branch} (the branch holds the request; open the pull request from it on GitHub)`,
      token,
    );
  }
}

async function createBranch(octokit: Octokit, token: GitHubToken, plan: PullRequestPlan): Promise<string> {
  for (let attempt = 1; attempt <= BRANCH_ATTEMPTS; attempt++) {
    const branch = branchName(plan.path, attempt);
    try {
      await octokit.rest.git.createRef({ owner: plan.repo.owner, repo: plan.repo.name, ref: `refs/heads/${branch}`, sha: plan.baseSha });
      return branch;
    } catch (error) {
      if (statusOf(error) === 422 && /already exists/i.test(messageOf(error))) continue;
      throw failure(
        error,
        `creating the branch ${branch} in ${fullName(plan.repo)}`,
        token,
        `GitHub does not let the token from ${token.source} push to ${fullName(plan.repo)}; ask for write access to it (a token also needs the repo scope, or contents: write)`,
      );
    }
  }
  throw new CliError(
    `branches ${branchName(plan.path, 1)} to ${branchName(plan.path, BRANCH_ATTEMPTS)} all exist in ${fullName(plan.repo)}; delete the ones you no longer need, or pass --name <another name>`,
  );
}

function messageOf(error: unknown): string {
  const message = (error as { response?: { data?: { message?: unknown } } }).response?.data?.message;
  return typeof message === "string" ? message : "";
}

/**
 * Representative flows on the local GitHub, driven the way jitsudo drives GitHub: the real
 * OctokitGateway (every REST and GraphQL call the app makes) on Probot's Octokit through nock,
 * plus direct Octokit calls for the endpoints the merge verdict is about to use (activity,
 * CODEOWNERS errors, Commit.file modes, timeline items). Everything they cause is recorded by the
 * local GitHub, for the contract test to check against GitHub's published descriptions.
 */
import { generateKeyPairSync } from "node:crypto";
import nock from "nock";
import { Probot, type ProbotOctokit } from "probot";
import { OctokitGateway } from "../../src/github/octokit-gateway.js";
import type { FileSpec, Repository } from "../../src/sandbox/github.js";
import { APP_ID, BOT_LOGIN, FakeGitHub } from "./fake-github.js";
import { UnthrottledOctokit } from "./octokit.js";
import { policyYaml, requestYaml } from "./policy-fixtures.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

export interface Flows {
  github: FakeGitHub;
  /** Installation 1's client, as the app's handlers get it. */
  octokit: Octokit;
  /** The app's own client (JWT). */
  app: Octokit;
  gateway(repo?: Repository): OctokitGateway;
  /** Another installation's client. */
  installation(id: number): Promise<Octokit>;
  stop(): void;
}

const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

export const POLICY = policyYaml();
export const CODEOWNERS = "/access-requests/ @bob @acme/platform\n";
export const request = (reason: string) => requestYaml({ reason });

export async function startFlows(github = new FakeGitHub()): Promise<Flows> {
  nock.disableNetConnect();
  github.start();
  const probot = new Probot({ appId: APP_ID, privateKey, Octokit: UnthrottledOctokit });
  const octokit = await probot.auth(1);
  const app = await probot.auth();
  return {
    github,
    octokit,
    app,
    gateway: (repo = github.repo) => new OctokitGateway(octokit, repo.owner, repo.name, () => Promise.resolve(BOT_LOGIN)),
    installation: (id) => probot.auth(id),
    stop() {
      github.stop();
      nock.enableNetConnect();
    },
  };
}

/** main with the policy, CODEOWNERS and a README, people with write access, the platform team. */
export function seedAccessRepository(github: FakeGitHub, repo: Repository = github.repo): string {
  for (const login of ["alice", "bob", "carol", "mallory"]) repo.setPermission(login, "write");
  github.setTeamMembership("acme", "platform", "carol", "active");
  github.grantTeam("acme", "platform", repo, "write");
  return repo.commit("main", {
    files: { ".github/jitsudo.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS, "README.md": "# Access\n" },
    author: repo.owner,
  });
}

/** alice's pull request adding `files` on a new branch; returns its number. */
export function openRequest(repo: Repository, branch: string, files: Record<string, FileSpec>, base = repo.defaultBranch): number {
  repo.createBranch(branch, base, "alice");
  repo.commit(branch, { files, author: "alice" });
  return repo.openPull({ head: branch, base, author: "alice", title: `Request from ${branch}` });
}

/** Everything the app reads and writes for a pull request's validation and its merge verdict. */
export async function exerciseGateway(flows: Flows, repo: Repository, number: number): Promise<void> {
  const gateway = flows.gateway(repo);
  const pull = await gateway.getPullRequest(number);
  const files = await gateway.listPullRequestFiles(number);
  await gateway.readFiles([
    { ref: pull.baseSha, path: ".github/jitsudo.yml", maxBytes: 65536 },
    { ref: pull.baseSha, path: ".github/CODEOWNERS", maxBytes: 65536 },
    ...files.map((file) => ({ ref: pull.headSha, path: file.path, maxBytes: 65536 })),
  ]);
  await gateway.listReviews(number);
  await gateway.listPullRequestCommits(number);
  const annotations = Array.from({ length: 120 }, (_, index) => ({
    path: files[0]?.path ?? "README.md",
    start_line: 1,
    end_line: 1,
    annotation_level: "failure" as const,
    message: `problem ${index}`,
  }));
  await gateway.publishCheckRun({
    name: "jitsudo",
    headSha: pull.headSha,
    conclusion: "failure",
    externalId: `pr-${number}`,
    output: { title: "checked", summary: "120 problems", annotations },
  });
  const comment = await gateway.createIssueComment(number, "<!-- jitsudo -->\nchecked");
  await gateway.updateIssueComment(comment.id, "<!-- jitsudo -->\nchecked again");
  await gateway.listIssueComments(number);
  await gateway.reactToComment(comment.id, "+1");
  await gateway.reactToComment(comment.id, "+1");
  await gateway.teamMembership("acme", "platform", "carol");
  await gateway.teamMembership("acme", "platform", "nobody");
  await gateway.repoPermission("bob");
  await gateway.repoPermission("nobody");
  await gateway.botLogin();
}

/** The endpoints the merge verdict is about to call, as the lead's version will call them. */
export async function exerciseVerdictEndpoints(flows: Flows, repo: Repository, number: number, baseSha: string): Promise<void> {
  const { owner, name } = repo;
  await flows.octokit.paginate("GET /repos/{owner}/{repo}/activity", {
    owner,
    repo: name,
    ref: repo.defaultBranch,
    activity_type: "pr_merge",
    per_page: 100,
  });
  await flows.octokit.request("GET /repos/{owner}/{repo}/codeowners/errors", { owner, repo: name, ref: baseSha });
  await flows.octokit.graphql(
    `query($owner: String!, $name: String!, $number: Int!, $base: String!) {
      repository(owner: $owner, name: $name) {
        base: object(expression: $base) { ... on Commit { oid file(path: ".github/CODEOWNERS") { mode type oid object { ... on Blob { oid byteSize text } } } } }
        pullRequest(number: $number) {
          timelineItems(itemTypes: [BASE_REF_CHANGED_EVENT, BASE_REF_FORCE_PUSHED_EVENT], last: 1) {
            nodes { __typename ... on BaseRefChangedEvent { createdAt previousRefName currentRefName } ... on BaseRefForcePushedEvent { createdAt } }
          }
        }
      }
    }`,
    { owner, name, number, base: baseSha },
  );
}

export { BOT_LOGIN };

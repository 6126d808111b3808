/**
 * Webhook payloads: GitHub's own examples from @octokit/webhooks-examples, with only the fields a
 * scenario is about changed. Keeping the rest real catches handlers that lean on fields GitHub omits.
 */
import examples from "@octokit/webhooks-examples";

type Example = { name: string; examples: Record<string, unknown>[] };

function example(name: string, action: string): Record<string, unknown> {
  const group = (examples as unknown as Example[]).find((candidate) => candidate.name === name);
  const found = group?.examples.find((candidate) => candidate.action === action);
  if (!found) throw new Error(`no ${name}.${action} example in @octokit/webhooks-examples`);
  return structuredClone(found);
}

export interface PullScenario {
  number: number;
  headSha: string;
  baseSha: string;
  baseRef?: string;
  author: string;
  defaultBranch?: string;
}

export function pullRequestEvent(action: "opened" | "synchronize" | "reopened" | "ready_for_review" | "edited", scenario: PullScenario, extra: Record<string, unknown> = {}) {
  const payload = example("pull_request", action === "edited" ? "opened" : action) as Record<string, any>;
  payload.action = action;
  payload.number = scenario.number;
  Object.assign(payload.pull_request, {
    number: scenario.number,
    state: "open",
    user: { ...payload.pull_request.user, login: scenario.author },
  });
  payload.pull_request.head = { ...payload.pull_request.head, sha: scenario.headSha };
  payload.pull_request.base = { ...payload.pull_request.base, sha: scenario.baseSha, ref: scenario.baseRef ?? "main" };
  payload.repository.default_branch = scenario.defaultBranch ?? "main";
  payload.installation = { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return { ...payload, ...extra };
}

export function checkRunRerequested(scenario: PullScenario & { appId: number; checkName: string }) {
  const payload = example("check_run", "rerequested") as Record<string, any>;
  payload.check_run.name = scenario.checkName;
  payload.check_run.head_sha = scenario.headSha;
  payload.check_run.app = { ...payload.check_run.app, id: scenario.appId };
  payload.check_run.pull_requests = [
    { number: scenario.number, head: { ref: "request", sha: scenario.headSha }, base: { ref: scenario.baseRef ?? "main", sha: scenario.baseSha } },
  ];
  // The example belongs to github/hello-world; the scenarios all live in Codertocat/Hello-World.
  payload.repository = { ...payload.repository, name: "Hello-World", full_name: "Codertocat/Hello-World", owner: { ...payload.repository.owner, login: "Codertocat" } };
  payload.repository.default_branch = scenario.defaultBranch ?? "main";
  payload.installation = { id: 1, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" };
  return payload;
}

export interface MergeScenario extends PullScenario {
  mergeCommitSha: string;
  mergedBy?: string;
  commits?: number;
}

export function pullRequestMergedEvent(scenario: MergeScenario) {
  const payload = pullRequestEvent("opened", scenario) as Record<string, any>;
  payload.action = "closed";
  Object.assign(payload.pull_request, {
    state: "closed",
    merged: true,
    merged_at: "2026-11-25T12:00:00Z",
    merge_commit_sha: scenario.mergeCommitSha,
    merged_by: { ...payload.pull_request.user, login: scenario.mergedBy ?? "bob" },
    commits: scenario.commits ?? 1,
  });
  return payload;
}

export function issueCommentCreated(scenario: { number: number; commentId: number; login: string; body: string; userType?: "User" | "Bot" }) {
  const payload = example("issue_comment", "created") as Record<string, any>;
  const pull = pullRequestEvent("opened", { number: scenario.number, headSha: "a".repeat(40), baseSha: "b".repeat(40), author: "alice" }) as Record<string, any>;
  payload.repository = pull.repository;
  payload.installation = pull.installation;
  payload.issue = { ...payload.issue, number: scenario.number, pull_request: { url: `https://api.github.com/repos/Codertocat/Hello-World/pulls/${scenario.number}` } };
  payload.comment = { ...payload.comment, id: scenario.commentId, body: scenario.body, user: { ...payload.comment.user, login: scenario.login, type: scenario.userType ?? "User" } };
  return payload;
}

export function pushEvent(scenario: { ref: string; before: string; after: string; pusher: string; commits: { id: string; added?: string[]; modified?: string[]; removed?: string[] }[] }) {
  const group = (examples as unknown as Example[]).find((candidate) => candidate.name === "push");
  const found = group?.examples.find((candidate) => (candidate as { ref?: string }).ref?.startsWith("refs/heads/") && (candidate as { installation?: unknown }).installation);
  if (!found) throw new Error("no branch push example in @octokit/webhooks-examples");
  const payload = structuredClone(found) as Record<string, any>;
  const template = payload.commits[0];
  Object.assign(payload, { ref: scenario.ref, before: scenario.before, after: scenario.after, deleted: false });
  payload.repository.default_branch = "main";
  payload.sender = { ...payload.sender, login: scenario.pusher };
  payload.commits = scenario.commits.map((commit) => ({ ...template, id: commit.id, added: commit.added ?? [], modified: commit.modified ?? [], removed: commit.removed ?? [] }));
  payload.head_commit = payload.commits.at(-1) ?? null;
  return payload;
}

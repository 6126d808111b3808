/**
 * `jitsudo request` as people run it: in-process with an environment of its own, against the local
 * GitHub over HTTP (a GitHub Enterprise Server on a loopback port, reached through @octokit/rest
 * with a person's token) or, without a token, against a git clone. The pull request it opens is
 * checked on the local GitHub itself (branch, commit, file, pull request, webhooks), and every REST
 * answer it got against GitHub's OpenAPI description.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { requestCommand } from "../../src/cli/request.js";
import { freePort } from "../../src/net.js";
import { renderRequest } from "../../src/cli/request-file.js";
import { parseTenantConfig } from "../../src/config/tenant.js";
import { parseRequestFile } from "../../src/requests/access-request.js";
import { validateRequest } from "../../src/requests/validate-request.js";
import {
  ACCESS_CODEOWNERS,
  baseEnv,
  cliIo,
  cloneWith,
  EXAMPLE_POLICY,
  gitIn,
  NOW,
  removeScratch,
  scratchDir,
  startAccessGitHub,
  type AccessGitHub,
} from "../support/access-clone.js";
import { checkGraphqlQuery, checkRestCall, checkWebhook } from "../support/github-contract.js";

afterAll(removeScratch);

const ASK = ["--account", "prod", "--permission-set", "ReadOnlyAccess", "--duration", "1h"];
/** Everything YAML could take for something else: `: `, `#`, both quotes, a line break. */
const TRICKY_REASON = 'Restore deploys: the "payments" job #4711 isn\'t running\nsince 09:00 UTC';
const FILE = "access-requests/alice/2026-11-25-readonlyaccess-prod.yaml";
const BRANCH = "jitsudo/alice/2026-11-25-readonlyaccess-prod";

async function request(args: string[], env: Record<string, string>, cwd = scratchDir()) {
  const run = cliIo(cwd, env);
  const code = await requestCommand(args, run.io);
  return { code, stdout: run.stdout, stderr: run.stderr };
}

describe("jitsudo request --open-pr, against the local GitHub over HTTP", () => {
  let github: AccessGitHub;
  beforeEach(async () => {
    github = await startAccessGitHub();
  });
  afterEach(() => github.stop());

  it("opens the pull request: a branch from main, one commit by the requester holding exactly the approved file, and the URL", async () => {
    const repo = github.repo;
    const mainBefore = repo.branch("main")!;
    const callsBefore = github.github.calls.length;
    const result = await request([...ASK, "--reason", TRICKY_REASON, "--repo", "acme/access", "--open-pr"], github.env("alice"));

    const url = `http://${github.host}/acme/access/pull/1`;
    expect([result.code, result.stdout]).toEqual([0, [url]]);
    expect(result.stderr).toEqual([
      `policy and CODEOWNERS: acme/access main (the default branch) at ${mainBefore.slice(0, 7)}, read through the GitHub API`,
      'warning: --account: account "prod" is a name; policy rules are matched on the account\'s 12-digit id, which jitsudo looks up and checks again before provisioning (if the rule for that id asks for more, nothing is granted); write the id to see now which rule applies',
      "rule: rules[0] (.github/jitsudo.yml line 14) decides it: up to 8h",
      "approval: needs 1 approval from @bob, @acme/platform (.github/CODEOWNERS line 1, a team through its active members)",
      `opened pull request #1 from ${BRANCH}: ${url}`,
    ]);

    // The branch starts at main's commit, and holds one commit by alice adding the one file.
    const head = repo.resolve(BRANCH)!;
    expect(head.parents).toEqual([mainBefore]);
    expect([head.author.login, head.committer.login]).toEqual(["alice", "alice"]);
    expect([...head.tree.keys()].filter((path) => !repo.objects.require(mainBefore).tree.has(path))).toEqual([FILE]);

    // The file is byte for byte what the validator approved, under the policy at main.
    const bytes = repo.objects.blob(head.tree.get(FILE)!.sha)!;
    const fields = { account: "prod", permission_set: "ReadOnlyAccess", duration: "1h", reason: TRICKY_REASON };
    expect(new TextDecoder().decode(bytes)).toBe(renderRequest(fields));
    const policy = parseTenantConfig(new TextEncoder().encode(EXAMPLE_POLICY));
    if (!policy.ok) throw new Error("the example policy must parse");
    const review = validateRequest(FILE, bytes, { config: policy.config, requester: "alice", now: NOW });
    expect([review.valid, review.parsed?.request]).toEqual([true, fields]);

    // The pull request is alice's, from the branch into main, and GitHub announced it as for any pull request.
    const pull = repo.pull(1);
    expect([pull.author, pull.headRef, pull.baseRef, pull.state, pull.title]).toEqual([
      "alice",
      BRANCH,
      "main",
      "open",
      "Access request: ReadOnlyAccess on prod for 1h",
    ]);
    expect(pull.body).toContain(
      "Falls under rules[0] (.github/jitsudo.yml line 14): needs 1 code-owner approval from `@bob`, `@acme/platform`",
    );
    const opened = github.github.webhooks.filter((delivery) => delivery.payload.action === "opened");
    expect(opened.map((delivery) => [delivery.name, (delivery.payload.sender as { login: string }).login])).toEqual([
      ["pull_request", "alice"],
    ]);
    expect(github.github.webhooks.flatMap(checkWebhook)).toEqual([]);

    // Every answer it got is one GitHub's OpenAPI description allows, and the token was never shown.
    const calls = github.github.calls.slice(callsBefore);
    // The governance files are read in parallel, so the calls are compared as a set. They are read
    // as the pull request check reads them (readGovernance): one GraphQL query for every file.
    const rest = calls.filter((call) => !call.path.endsWith("/graphql"));
    const graphql = calls.filter((call) => call.path.endsWith("/graphql"));
    expect(rest.map((call) => `${call.method} ${checkRestCall(call).template} ${call.status}`).sort()).toEqual([
      "GET /repos/{owner}/{repo} 200",
      "GET /repos/{owner}/{repo}/codeowners/errors 200",
      "GET /repos/{owner}/{repo}/contents/{path} 404",
      "GET /repos/{owner}/{repo}/git/ref/{ref} 200",
      "GET /user 200",
      "POST /repos/{owner}/{repo}/git/refs 201",
      "POST /repos/{owner}/{repo}/pulls 201",
      "PUT /repos/{owner}/{repo}/contents/{path} 201",
    ]);
    expect(graphql.map((call) => `${call.method} ${call.status}`)).toEqual(["POST 200"]);
    expect(graphql.flatMap((call) => checkGraphqlQuery(String((call.body as { query?: unknown }).query)))).toEqual([]);
    expect(rest.map(checkRestCall).filter((check) => check.problems.length > 0)).toEqual([]);
    expect([...result.stdout, ...result.stderr].join("\n")).not.toContain(github.tokenOf("alice"));
  }, 60_000); // compiling GitHub's OpenAPI schemas for the contract checks takes seconds on a busy machine

  it("takes the token from `gh auth token` when GITHUB_TOKEN is unset, for GHE_HOST", async () => {
    const env = github.env(undefined);
    const gh = join(env.PATH!, "gh");
    // A stand-in for the GitHub CLI: prints alice's token only when asked for this host.
    writeFileSync(gh, `#!/bin/sh\n[ "$*" = "auth token --hostname ${github.host}" ] && echo ${github.tokenOf("alice")}\n`);
    chmodSync(gh, 0o755);
    const result = await request([...ASK, "--reason", "Check the dashboards", "--repo", "acme/access", "--open-pr"], env);
    expect([result.code, result.stdout]).toEqual([0, [`http://${github.host}/acme/access/pull/1`]]);
    expect(github.repo.pull(1).author).toBe("alice");
  });

  it("puts a suffix on a branch name already taken", async () => {
    github.repo.createBranch(BRANCH, "main", "bob");
    github.repo.createBranch(`${BRANCH}-2`, "main", "bob");
    const result = await request([...ASK, "--reason", "Check the dashboards", "--repo", "acme/access", "--open-pr"], github.env("alice"));
    expect(result.code).toBe(0);
    expect(github.repo.pull(1).headRef).toBe(`${BRANCH}-3`);
  });

  it("refuses to overwrite a request file already on the default branch, and creates nothing", async () => {
    github.repo.commit("main", { files: { [FILE]: "earlier\n" }, author: "alice" });
    const branches = github.repo.branchNames();
    const result = await request([...ASK, "--reason", "Check the dashboards", "--repo", "acme/access", "--open-pr"], github.env("alice"));
    expect([result.code, result.stdout, result.stderr.at(-1)]).toEqual([
      1,
      [],
      `jitsudo request: ${FILE} already exists on main of acme/access; pass --name <another name> for a second request, or edit that file (its duration, to extend a grant) in a pull request of its own`,
    ]);
    expect(github.repo.branchNames()).toEqual(branches);
    // --name gives the second request a file of its own.
    const second = await request(
      [...ASK, "--reason", "Check the dashboards", "--repo", "acme/access", "--open-pr", "--name", "Second look"],
      github.env("alice"),
    );
    expect(second.code).toBe(0);
    expect(github.repo.pull(1).headRef).toBe("jitsudo/alice/2026-11-25-second-look");
  });

  it("says what to change for each bad input, and writes nothing", async () => {
    const branches = github.repo.branchNames();
    const run = (args: string[]) => request([...args, "--repo", "acme/access", "--open-pr"], github.env("alice"));
    const reason = ["--reason", "Check the dashboards"];

    const unknownSet = await run(["--account", "prod", "--permission-set", "ReadOnlyAcess", "--duration", "1h", ...reason]);
    expect([unknownSet.code, unknownSet.stderr.slice(2)]).toEqual([
      1,
      [
        'error: --permission-set: no rule in .github/jitsudo.yml allows "ReadOnlyAcess" on account "prod"; ask for a permission set and account a rule lists',
        'hint: --permission-set: permission set "ReadOnlyAcess" is in no rule of .github/jitsudo.yml; did you mean "ReadOnlyAccess"?',
        "jitsudo request: nothing was written: change what the errors above name, and run it again",
      ],
    ]);

    const unknownAccount = await run([
      "--account",
      "123456789021",
      "--permission-set",
      "AdministratorAccess",
      "--duration",
      "1h",
      ...reason,
    ]);
    expect(unknownAccount.stderr).toContain(
      'hint: --account: account "123456789021" is not among the accounts .github/jitsudo.yml lists for "AdministratorAccess"; did you mean "123456789012"?',
    );

    const tooLong = await run([...ASK.slice(0, 4), "--duration", "9h", ...reason]);
    expect([tooLong.code, tooLong.stderr.slice(2, 3)]).toEqual([
      1,
      ['error: --duration: duration "9h" is longer than the 8h that rules[0] (.github/jitsudo.yml line 14) allows; ask for 8h or less'],
    ]);

    const noTicket = await run(["--account", "123456789012", "--permission-set", "AdministratorAccess", "--duration", "1h", ...reason]);
    expect([noTicket.code, noTicket.stderr.slice(1, 2)]).toEqual([
      1,
      [
        'error: rules[1] (.github/jitsudo.yml line 18) requires a ticket for "AdministratorAccess"; pass --ticket <ticket id, e.g. INC-4711>',
      ],
    ]);

    const shortReason = await run([...ASK, "--reason", "because"]);
    expect(shortReason.stderr).toContain(
      "error: --reason: reason is too short; write at least 10 characters saying why you need this access",
    );

    const noReason = await run(ASK);
    expect([noReason.code, noReason.stderr[0]]).toEqual([2, 'jitsudo request: missing --reason "<why you need this access>"']);

    const otherLogin = await run([...ASK, ...reason, "--login", "bob"]);
    expect([otherLogin.code, otherLogin.stderr.at(-2)]).toEqual([
      2,
      "jitsudo request: --login bob is not the token's person (alice, from GITHUB_TOKEN): a request is for the author of its pull request; leave out --login, or use bob's own token",
    ]);

    expect(github.repo.branchNames()).toEqual(branches);
    expect(github.repo.pulls.size).toBe(0);
  });

  it("refuses a clone whose origin is on another host than the one it would send the token to", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY }, "git@ghe.corp.example:acme/access.git");
    const result = await request([...ASK, "--reason", "Check the dashboards", "--open-pr"], github.env("alice"), clone);
    expect([result.code, result.stderr.find((line) => line.includes("origin is on"))]).toEqual([
      2,
      `jitsudo request: your clone's origin is on ghe.corp.example, but jitsudo would ask ${github.env("alice").GHE_HOST ?? "github.com"}: set GHE_HOST=ghe.corp.example (GitHub Enterprise Server), or pass --repo owner/name to ask the other host on purpose`,
    ]);
  });

  it("says which token or repository is wrong, without showing the token", async () => {
    const run = async (env: Record<string, string>, repo = "acme/access") => {
      const result = await request([...ASK, "--reason", "Check the dashboards", "--repo", repo, "--open-pr"], env);
      expect([...result.stdout, ...result.stderr].join("\n")).not.toMatch(/gh[ps]_\w+/);
      return [result.code, result.stderr.at(-1)];
    };
    expect(await run(baseEnv())).toEqual([
      1,
      "jitsudo request: --open-pr opens the pull request through the GitHub API and needs a token: set GITHUB_TOKEN to a token that can push to the access repository, or install the GitHub CLI and run gh auth login",
    ]);
    expect(await run(github.env("alice"), "acme/nope")).toEqual([
      1,
      "jitsudo request: reading acme/nope: acme/nope was not found, or alice (the token from GITHUB_TOKEN) cannot see it; check --repo, or ask for read access",
    ]);
    // erin has no role in the private repository: GitHub hides it from her.
    expect(await run(github.env("erin"))).toEqual([
      1,
      "jitsudo request: reading acme/access: acme/access was not found, or erin (the token from GITHUB_TOKEN) cannot see it; check --repo, or ask for read access",
    ]);
    // dave may read it, not push to it.
    expect(await run(github.env("dave"))).toEqual([
      1,
      "jitsudo request: dave cannot push to acme/access (GitHub says so for the token from GITHUB_TOKEN); ask for write access to it",
    ]);
    expect(await run(github.env("alice", { GITHUB_TOKEN: "ghp_not_a_token_anyone_has" }))).toEqual([
      1,
      'jitsudo request: asking GitHub who the token belongs to: GitHub refused the token from GITHUB_TOKEN (401 "Bad credentials"); create a new token, or run gh auth login',
    ]);
    const app = github.github.repository("acme/access").installationId;
    expect(await run(github.env(undefined, { GITHUB_TOKEN: installationToken(github, app) }))).toEqual([
      1,
      "jitsudo request: the token from GITHUB_TOKEN is not a person's token (GitHub answered 403 to GET /user): an app's or GitHub Actions' token cannot request access as you; use a personal access token, or gh auth login",
    ]);
    // A GitHub that does not answer: the address to check, not a stack trace.
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await run(github.env("alice", { GHE_HOST: closed }))).toEqual([
      1,
      `jitsudo request: asking GitHub who the token belongs to: GitHub could not be reached (connect ECONNREFUSED ${closed}); check your network, or GHE_HOST for GitHub Enterprise Server`,
    ]);
    expect(github.repo.pulls.size).toBe(0);
  });
});

/** An installation token as GitHub Actions' GITHUB_TOKEN is one, issued as the app asks for it. */
function installationToken(github: AccessGitHub, installationId: number): string {
  const [, body] = github.github.handle("POST", `/api/v3/app/installations/${installationId}/access_tokens`, "", {
    authorization: "Bearer a.b.c",
  });
  return (body as { token: string }).token;
}

describe("jitsudo request without a token, in a clone", () => {
  const loosened = EXAMPLE_POLICY.replace("max_duration: 8h", "max_duration: 24h");

  it("validates against origin/HEAD's policy, not the working tree's, and writes the file there", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY, ".github/CODEOWNERS": ACCESS_CODEOWNERS });
    // A local edit (not merged) must not loosen the rules the pull request will be judged by.
    writeFileSync(join(clone, ".github/jitsudo.yml"), loosened);
    const sha = gitIn(clone, "rev-parse", "origin/HEAD").slice(0, 7);
    const env = baseEnv();

    const tooLong = await request([...ASK.slice(0, 4), "--duration", "12h", "--reason", TRICKY_REASON, "--login", "alice"], env, clone);
    expect([tooLong.code, tooLong.stderr[0], tooLong.stderr[2]]).toEqual([
      1,
      `policy and CODEOWNERS: origin/main (origin/HEAD, the default branch as of your last git fetch) at ${sha}, read from your clone with git: no GitHub token`,
      'error: --duration: duration "12h" is longer than the 8h that rules[0] (.github/jitsudo.yml line 14) allows; ask for 8h or less',
    ]);

    // From a subdirectory, with the login from git config.
    gitIn(clone, "config", "github.user", "alice");
    const written = await request([...ASK, "--reason", TRICKY_REASON], env, join(clone, ".github"));
    expect([written.code, written.stdout, written.stderr.at(-1)]).toEqual([
      0,
      [FILE],
      `wrote ${FILE}; commit it on a new branch and open a pull request, or run again with --open-pr`,
    ]);
    const parsed = parseRequestFile(FILE, readFileSync(join(clone, FILE)));
    expect(parsed.ok && parsed.parsed.request.reason).toBe(TRICKY_REASON);

    // The same request again would overwrite it: refused.
    const again = await request([...ASK, "--reason", TRICKY_REASON], env, clone);
    expect([again.code, again.stderr.at(-1)]).toEqual([
      1,
      `jitsudo request: ${FILE} already exists in your clone; pass --name <another name> for a second request, or edit that file (its duration, to extend a grant) in a pull request of its own`,
    ]);
  });

  it("says what to do when it cannot tell the default branch or the requester", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY });
    const env = baseEnv();
    const noLogin = await request([...ASK, "--reason", "Check the dashboards"], env, clone);
    expect([noLogin.code, noLogin.stderr.at(-2)]).toEqual([
      2,
      "jitsudo request: without a GitHub token jitsudo cannot ask GitHub who you are: pass --login <your GitHub login>, or run git config --global github.user <your GitHub login>, or set GITHUB_TOKEN",
    ]);
    gitIn(clone, "remote", "set-head", "origin", "-d");
    const noHead = await request([...ASK, "--reason", "Check the dashboards", "--login", "alice"], env, clone);
    expect([noHead.code, noHead.stderr.at(-1)]).toEqual([
      1,
      "jitsudo request: without a GitHub token, the policy is read from your clone's copy of the default branch, but origin/HEAD is not set; run git remote set-head origin --auto (or set GITHUB_TOKEN, or run gh auth login)",
    ]);
    const outside = await request([...ASK, "--reason", "Check the dashboards", "--login", "alice"], env, scratchDir());
    expect([outside.code, outside.stderr.at(-1)]).toEqual([
      1,
      "jitsudo request: the request file is written into a clone of the access repository; run it inside one, or pass --open-pr to open the pull request through GitHub",
    ]);
    expect(existsSync(join(clone, "access-requests"))).toBe(false);
  });

  it("never writes through a symbolic link someone committed under access-requests/", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY });
    mkdirSync(join(clone, "access-requests"));
    symlinkSync("../.github", join(clone, "access-requests/alice"));
    const result = await request([...ASK, "--reason", "Check the dashboards", "--login", "alice"], baseEnv(), clone);
    expect([result.code, result.stderr.at(-1)]).toEqual([
      1,
      "jitsudo request: access-requests/alice in your clone is a symbolic link; request files are only written into real directories under access-requests/",
    ]);
    expect(readdirSync(join(clone, ".github"))).toEqual(["jitsudo.yml"]);
  });

  it("refuses when the default branch has no policy, saying so", async () => {
    const clone = cloneWith({ "README.md": "# Access\n" });
    const result = await request([...ASK, "--reason", "Check the dashboards", "--login", "alice"], baseEnv(), clone);
    expect([result.code, result.stderr.at(-1)]).toEqual([
      1,
      "jitsudo request: .github/jitsudo.yml does not exist on the base branch, so no policy allows any request; an admin must add it",
    ]);
  });
});

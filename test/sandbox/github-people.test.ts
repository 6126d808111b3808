/**
 * The local GitHub as a person's own token sees it (what `jitsudo request --open-pr` calls): the
 * contents API's documented behaviours, writes that go through the repository's own operations
 * (and so send the webhooks a push and a pull request send), and the permissions GitHub applies.
 * Answered by the model directly (`handle`), without HTTP: the HTTP path is the CLI's tests'.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { LocalGitHub, type Repository } from "../../src/sandbox/github.js";

let github: LocalGitHub;
let repo: Repository;
let main: string;

beforeEach(() => {
  github = new LocalGitHub({ defaultRepository: false });
  github.createInstallation({ account: "acme" });
  repo = github.createRepository({ owner: "acme", name: "access", installationId: github.installations[0]!.id, private: true });
  repo.setPermission("alice", "write");
  repo.setPermission("dave", "read");
  main = repo.commit("main", {
    files: {
      "README.md": "# Access\n",
      "docs/readme.md": { symlink: "../README.md" },
      "docs/dangling": { symlink: "../nowhere" },
      "docs/big.bin": new Uint8Array(1024 * 1024 + 1),
      "vendor/lib": { submodule: "a".repeat(40) },
      ".gitmodules": '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://github.com/acme/lib.git\n',
    },
    author: "acme",
  });
});

function call(login: string | undefined, method: string, path: string, body?: unknown) {
  const token = login ? github.issuePersonToken(login) : undefined;
  const [status, response] = github.handle(method, path, body === undefined ? "" : JSON.stringify(body), {
    ...(token ? { authorization: `token ${token}` } : {}),
  });
  return { status, body: response as Record<string, unknown> };
}

const contents = (path: string) => `/repos/acme/access/contents/${encodeURIComponent(path)}`;

describe("the contents API", () => {
  it("answers a link to a file with the file, any other link with the link, a submodule with its URL", () => {
    expect(call("alice", "GET", contents("docs/readme.md")).body).toMatchObject({
      type: "file",
      path: "README.md",
      content: "IyBBY2Nlc3MK\n",
    });
    expect(call("alice", "GET", contents("docs/dangling")).body).toMatchObject({ type: "symlink", target: "../nowhere" });
    expect(call("alice", "GET", contents("vendor/lib")).body).toMatchObject({
      type: "submodule",
      submodule_git_url: "https://github.com/acme/lib.git",
    });
    const listing = call("alice", "GET", contents("docs")).body as unknown as { name: string; type: string }[];
    expect(listing.map(({ name, type }) => `${name} ${type}`)).toEqual(["big.bin file", "dangling symlink", "readme.md symlink"]);
  });

  it("refuses files over 1 MB, unknown refs and unknown paths as GitHub does", () => {
    expect(call("alice", "GET", contents("docs/big.bin"))).toMatchObject({
      status: 403,
      body: { errors: [{ resource: "Blob", field: "data", code: "too_large" }] },
    });
    expect(call("alice", "GET", `${contents("README.md")}?ref=nope`)).toMatchObject({
      status: 404,
      body: { message: "No commit found for the ref nope" },
    });
    expect(call("alice", "GET", contents("missing.md")).status).toBe(404);
  });

  it("commits a file as the person, on the branch, and replaces one only given its blob", () => {
    const content = Buffer.from("account: x\n").toString("base64");
    expect(call("alice", "POST", "/repos/acme/access/git/refs", { ref: "refs/heads/alice/x", sha: main }).status).toBe(201);
    const put = (body: Record<string, unknown>) =>
      call("alice", "PUT", contents("access-requests/x.yaml"), { message: "Ask", branch: "alice/x", ...body });
    const created = put({ content });
    expect(created.status).toBe(201);
    const head = repo.resolve("alice/x")!;
    expect([head.author.login, head.parents, head.message]).toEqual(["alice", [main], "Ask"]);
    expect(github.lastWebhook("push")).toMatchObject({ ref: "refs/heads/alice/x", pusher: { name: "alice" } });

    // An open pull request follows its branch: replacing the file synchronizes it.
    expect(call("alice", "POST", "/repos/acme/access/pulls", { title: "Ask", head: "alice/x", base: "main" }).status).toBe(201);
    expect(github.lastWebhook("pull_request.opened")).toMatchObject({
      sender: { login: "alice" },
      pull_request: { head: { ref: "alice/x" } },
    });
    expect(put({ content }).status).toBe(422); // no sha: GitHub does not replace blindly
    expect(put({ content, sha: "b".repeat(40) }).status).toBe(409);
    const sha = (created.body.content as { sha: string }).sha;
    expect(put({ content: Buffer.from("account: y\n").toString("base64"), sha }).status).toBe(200);
    expect(github.lastWebhook("pull_request.synchronize")).toMatchObject({ sender: { login: "alice" } });
  });

  it("takes a branch name once, from an existing commit", () => {
    expect(call("alice", "POST", "/repos/acme/access/git/refs", { ref: "refs/heads/main", sha: main })).toMatchObject({
      status: 422,
      body: { message: "Reference already exists" },
    });
    expect(call("alice", "POST", "/repos/acme/access/git/refs", { ref: "refs/heads/x", sha: "c".repeat(40) })).toMatchObject({
      status: 422,
      body: { message: "Object does not exist" },
    });
    expect(call("alice", "POST", "/repos/acme/access/pulls", { title: "t", head: "nope", base: "main" })).toMatchObject({
      status: 422,
      body: { errors: [{ field: "head", code: "invalid" }] },
    });
  });
});

describe("who may do what", () => {
  it("hides a private repository from people without a role, and refuses writes without push access", () => {
    expect(call("erin", "GET", "/repos/acme/access").status).toBe(404);
    expect(call("dave", "GET", "/repos/acme/access").body).toMatchObject({
      default_branch: "main",
      permissions: { push: false, pull: true },
    });
    expect(call("alice", "GET", "/repos/acme/access").body).toMatchObject({ permissions: { push: true, admin: false } });
    expect(call("dave", "POST", "/repos/acme/access/git/refs", { ref: "refs/heads/dave", sha: main }).status).toBe(404);
    expect(call("dave", "PUT", contents("x.yaml"), { message: "m", content: "" }).status).toBe(404);
    expect(repo.branchNames()).toEqual(["main"]);
  });

  it("knows a person from the app, and a token it never issued from no token at all", () => {
    expect(call("alice", "GET", "/user").body).toMatchObject({ login: "alice", user_view_type: "private" });
    const [status, body] = github.handle("GET", "/user", "", { authorization: "token ghp_never_issued" });
    expect([status, (body as { message: string }).message]).toEqual([401, "Bad credentials"]);
    expect(call(undefined, "GET", "/user").status).toBe(401);
    // A person's token cannot act as the app: comments and check runs are the app's here.
    expect(call("alice", "POST", "/repos/acme/access/check-runs", { name: "x", head_sha: main }).status).toBe(403);
  });
});

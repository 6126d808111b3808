/**
 * The repository contents API of the local GitHub (`/repos/{owner}/{repo}/contents/{path}`): reading
 * a file, a directory, a symbolic link or a submodule at a ref, and creating or replacing a file on a
 * branch as a commit of the authenticated person, which pushes the branch (and so sends the `push`
 * webhook and updates open pull requests) exactly as a `git push` of that commit would.
 *
 * GitHub behaviours kept, from "Get repository content" and "Create or update file contents":
 * - the path may be sent with its slashes percent-encoded (Octokit does) or not;
 * - `ref` defaults to the default branch; an unknown ref is 404 "No commit found for the ref …";
 * - a file over 1 MB is refused with the JSON media type (403 `too_large`): only `raw`/`object` serve it;
 * - a symbolic link to a regular file in the repository answers with that file; any other link
 *   with the link itself (`type: symlink`, `target`);
 * - in a directory listing a submodule's `type` is "file" (kept "for backwards compatibility");
 * - replacing a file needs its blob `sha` (422 when missing, 409 when it is not the file's);
 * - writing needs push access: a person without it gets 404, as GitHub hides what they cannot
 *   change; an app's installation token gets 403 "Resource not accessible by integration", since
 *   jitsudo's app asks for `contents: read` only.
 */
import { Buffer } from "node:buffer";
import { posix } from "node:path";
import { canWrite, type PersonSpec } from "./accounts.js";
import { directoryEntries, directoryId, isDirectory, type TreeEntry } from "./git-objects.js";
import { gitCommitJson } from "./rest-json-pulls.js";
import type { Repository } from "./repository.js";
import { error, NOT_FOUND, type RestRequest, type RestResponse } from "./rest-routes.js";
import type { RepoRouteContext } from "./rest-repo-routes.js";

/** "1 MB or smaller: All features of this endpoint are supported." */
export const CONTENTS_MAX_BYTES = 1024 * 1024;

const TOO_LARGE_MESSAGE =
  "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, but you can always clone the repository to get the file.";

/** `GET /contents/{path}?ref=`. */
export function getContents(context: RepoRouteContext, repo: Repository, request: RestRequest, [rawPath]: string[]): RestResponse {
  const ref = request.url.searchParams.get("ref") || repo.defaultBranch;
  const commit = repo.resolve(ref);
  if (!commit) return error(404, `No commit found for the ref ${ref}`);
  const path = contentPath(rawPath);
  const urls = new ContentUrls(context, repo, ref);
  const entry = commit.tree.get(path);
  if (!entry) {
    if (!isDirectory(commit.tree, path)) return NOT_FOUND();
    return [
      200,
      directoryEntries(commit.tree, path).map((item) =>
        item.entry
          ? entryJson(urls, item.path, item.entry, repo, true)
          : { ...urls.item("dir", item.path, directoryId(commit.tree, item.path), 0), download_url: null },
      ),
    ];
  }
  if (entry.mode === "120000") {
    // "If the content is a symlink and the symlink's target is a normal file in the repository,
    // then the API responds with the content of the file."
    const target = new TextDecoder().decode(repo.objects.blob(entry.sha));
    const resolved = posix.normalize(posix.join(posix.dirname(path), target));
    const file = resolved.startsWith("../") || posix.isAbsolute(target) ? undefined : commit.tree.get(resolved);
    if (file && (file.mode === "100644" || file.mode === "100755")) return fileAnswer(urls, repo, resolved, file);
  }
  if (entry.mode === "100644" || entry.mode === "100755") return fileAnswer(urls, repo, path, entry);
  return [200, entryJson(urls, path, entry, repo, false)];
}

/** `PUT /contents/{path}`: one commit on `branch` (default: the default branch) adding or replacing the file. */
export function putContents(context: RepoRouteContext, repo: Repository, request: RestRequest, [rawPath]: string[]): RestResponse {
  const pusher = pusherOf(context, repo, request);
  if (typeof pusher !== "string") return pusher;
  const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<string, unknown>;
  const { message, content, sha } = body;
  if (typeof message !== "string" || typeof content !== "string")
    return validationFailed(`Invalid request.\n\n"${typeof message !== "string" ? "message" : "content"}" wasn't supplied.`);
  if (!/^[A-Za-z0-9+/\n\r]*={0,2}[\n\r]*$/.test(content)) return validationFailed("content is not valid Base64");
  const branch = typeof body.branch === "string" ? body.branch : repo.defaultBranch;
  const tip = repo.branch(branch);
  if (!tip) return error(404, `Branch ${branch} not found`);
  const path = contentPath(rawPath);
  const existing = repo.objects.require(tip).tree.get(path);
  if (existing && sha === undefined) return validationFailed('Invalid request.\n\n"sha" wasn\'t supplied.');
  if (sha !== undefined && sha !== existing?.sha) return error(409, `${path} does not match ${JSON.stringify(sha)}`);
  const bytes = Buffer.from(content, "base64");
  // "Default: the authenticated user"; the author defaults to the committer.
  const [author, committer] = [personOf(context, body.author), personOf(context, body.committer)];
  if (author === null || committer === null) return validationFailed("author and committer need both name and email");
  let commitSha: string;
  try {
    commitSha = repo.commit(branch, {
      files: { [path]: new Uint8Array(bytes) },
      author: author ?? committer ?? pusher,
      committer: committer ?? pusher,
      message,
      pusher,
    });
  } catch (caught) {
    // git refuses the path (a directory, or under a file, or `..`): nothing was written.
    return validationFailed(caught instanceof Error ? caught.message : String(caught));
  }
  const commit = repo.objects.require(commitSha);
  const urls = new ContentUrls(context, repo, branch);
  const { content: _content, encoding: _encoding, ...file } = fileJson(urls, repo, path, commit.tree.get(path)!);
  return [existing ? 200 : 201, { content: file, commit: gitCommitJson(context.json, repo, commit) }];
}

/**
 * The login a write is made as, or the answer refusing it: a person needs push access (404
 * otherwise, as GitHub answers), and jitsudo's app may not write contents at all.
 */
export function pusherOf(context: RepoRouteContext, repo: Repository, request: RestRequest): string | RestResponse {
  if (request.auth.kind === "installation") return error(403, "Resource not accessible by integration");
  if (request.auth.kind !== "user") return error(401, "Requires authentication");
  return canWrite(context.roleOf(repo, request.auth.login)) ? context.accounts.get(request.auth.login).login : NOT_FOUND();
}

/** GitHub's 422 for a request it cannot carry out. */
export function validationFailed(message: string, errors?: unknown[]): RestResponse {
  return [422, { message, ...(errors ? { errors } : {}), documentation_url: "https://docs.github.com/rest", status: "422" }];
}

function fileAnswer(urls: ContentUrls, repo: Repository, path: string, entry: TreeEntry): RestResponse {
  const size = repo.objects.blob(entry.sha)?.byteLength ?? 0;
  if (size > CONTENTS_MAX_BYTES) {
    return [
      403,
      {
        message: TOO_LARGE_MESSAGE,
        errors: [{ resource: "Blob", field: "data", code: "too_large" }],
        documentation_url: "https://docs.github.com/rest",
      },
    ];
  }
  return [200, fileJson(urls, repo, path, entry)];
}

/** `content-file`: the bytes in base64, wrapped at 60 characters as GitHub sends them. */
function fileJson(urls: ContentUrls, repo: Repository, path: string, entry: TreeEntry): Record<string, unknown> {
  const bytes = repo.objects.blob(entry.sha) ?? new Uint8Array();
  const base64 = Buffer.from(bytes).toString("base64");
  return {
    ...urls.item("file", path, entry.sha, bytes.byteLength),
    content: base64.replace(/.{60}/g, "$&\n") + (base64.length % 60 === 0 ? "" : "\n"),
    encoding: "base64",
  };
}

/** A link or submodule on its own, or any entry in a directory listing. */
function entryJson(urls: ContentUrls, path: string, entry: TreeEntry, repo: Repository, listed: boolean): Record<string, unknown> {
  if (entry.mode === "160000") {
    const url = submoduleUrl(repo, urls.ref, path);
    // Listed, a submodule says "file" (GitHub keeps it "for backwards compatibility").
    const item = urls.item(listed ? "file" : "submodule", path, entry.sha, 0);
    return { ...item, download_url: null, ...(listed ? {} : { submodule_git_url: url }) };
  }
  const bytes = repo.objects.blob(entry.sha) ?? new Uint8Array();
  if (entry.mode === "120000") {
    const item = urls.item("symlink", path, entry.sha, bytes.byteLength);
    return listed ? item : { ...item, target: new TextDecoder().decode(bytes) };
  }
  return urls.item("file", path, entry.sha, bytes.byteLength);
}

/** The submodule's URL from `.gitmodules` at the ref (git reads it from there too); "" when not listed. */
function submoduleUrl(repo: Repository, ref: string, path: string): string {
  const modules = repo.resolve(ref)?.tree.get(".gitmodules");
  const text = modules ? new TextDecoder().decode(repo.objects.blob(modules.sha)) : "";
  let section: { path?: string; url?: string } = {};
  for (const line of [...text.split("\n"), "[end]"]) {
    const trimmed = line.trim();
    if (trimmed.startsWith("[")) {
      if (section.path === path) return section.url ?? "";
      section = {};
      continue;
    }
    const [key = "", ...value] = trimmed.split("=");
    if (key.trim() === "path" || key.trim() === "url") section[key.trim() as "path" | "url"] = value.join("=").trim();
  }
  return "";
}

class ContentUrls {
  constructor(
    private readonly context: RepoRouteContext,
    private readonly repo: Repository,
    readonly ref: string,
  ) {}

  /** The fields every kind of entry has (`content-directory` items). */
  item(type: string, path: string, sha: string, size: number): Record<string, unknown> {
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const api = this.context.urls.api(`/repos/${this.repo.fullName}`);
    const self = `${api}/contents/${encoded}?ref=${encodeURIComponent(this.ref)}`;
    const git = `${api}/git/${type === "dir" ? "trees" : "blobs"}/${sha}`;
    const html = this.context.urls.web(`/${this.repo.fullName}/${type === "dir" ? "tree" : "blob"}/${this.ref}/${encoded}`);
    return {
      type,
      size,
      name: posix.basename(path),
      path,
      sha,
      url: self,
      git_url: git,
      html_url: html,
      download_url: this.context.urls.web(`/${this.repo.fullName}/raw/${this.ref}/${encoded}`),
      _links: { self, git, html },
    };
  }
}

/** The path as stored: percent-decoded (Octokit encodes its slashes), without surrounding slashes. */
function contentPath(raw: string | undefined): string {
  return decodeURIComponent(raw ?? "").replace(/^\/+|\/+$/g, "");
}

/**
 * `{name, email}` of a request's author or committer, linked to the account whose e-mail it is;
 * undefined when not given, null when given without both (GitHub answers 422).
 */
function personOf(context: RepoRouteContext, value: unknown): PersonSpec | undefined | null {
  if (value === undefined) return undefined;
  const { name, email } = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof name !== "string" || typeof email !== "string") return null;
  return { name, email, login: context.accounts.loginForEmail(email) };
}

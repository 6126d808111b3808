/**
 * `jitsudo request`: an access request from the command line. It renders the request file, judges
 * it with the validator the pull request check uses against the policy of the default branch,
 * says which rule it falls under and who can approve it, and then writes it into the clone or,
 * with --open-pr, opens the pull request through GitHub. Nothing is written when the validator
 * finds an error; the file written (or committed) is byte for byte the one it approved.
 *
 * Output: the result alone on stdout (the file's path, or the pull request's URL with --open-pr),
 * so scripts can take it; everything said to the person on stderr.
 */
import { existsSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { formatDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";
import { requestPathProblem } from "../requests/access-request.js";
import { validateRequest } from "../requests/validate-request.js";
import { approversOf } from "./approvers.js";
import { nameHint } from "./did-you-mean.js";
import { failure, fullName, statusOf } from "./github-api.js";
import { openPullRequest } from "./open-pull-request.js";
import { defaultName, formatFlagProblem, problemsAsFlags, renderRequest, requestPath, slug, type RequestFields } from "./request-file.js";
import { checkedLogin, openSession, unusablePolicy, type Session } from "./session.js";
import { CliError, git, type ToolIo } from "./tool-io.js";

export const REQUEST_USAGE = `usage: jitsudo request --account <id or name> --permission-set <name> --duration <e.g. 1h> --reason "<why>"
         [--ticket <id>] [--starts-at <date and time>] [--name <file name>] [--repo <owner/name>] [--login <GitHub login>] [--open-pr]`;

const REQUIRED: [flag: "account" | "permission-set" | "duration" | "reason", hint: string][] = [
  ["account", "--account <12-digit account id or account name>"],
  ["permission-set", "--permission-set <permission set name, e.g. ReadOnlyAccess>"],
  ["duration", "--duration <how long, e.g. 1h>"],
  ["reason", '--reason "<why you need this access>"'],
];

interface RequestFlags {
  fields: RequestFields;
  name?: string;
  repo?: string;
  login?: string;
  openPr: boolean;
}

/** Returns the exit code: 0 written or opened, 1 refused (the messages say why), 2 bad usage. */
export async function requestCommand(argv: readonly string[], io: ToolIo): Promise<number> {
  try {
    const flags = parseFlags(argv);
    if (!flags) {
      io.stdout(REQUEST_USAGE);
      return 0;
    }
    return await request(flags, io);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`jitsudo request: ${error.message}`);
    if (error.exitCode === 2) io.stderr(REQUEST_USAGE);
    return error.exitCode;
  }
}

async function request(flags: RequestFlags, io: ToolIo): Promise<number> {
  const session = await openSession(io, {
    ...(flags.repo ? { repo: flags.repo } : {}),
    requireGitHub: flags.openPr,
    requireClone: !flags.openPr,
  });
  const { governance, source } = session.policy;
  io.stderr(`policy and CODEOWNERS: ${source}`);
  const unusable = unusablePolicy(governance);
  if (unusable) throw unusable;

  const login = requesterOf(session, flags.login, io);
  const now = io.now();
  const path = requestPath(login, now, flags.name !== undefined ? slug(flags.name) : defaultName(flags.fields));
  const named = requestPathProblem(path);
  if (named) throw new CliError(`the file name ${quote(path)} cannot be a request: ${named}`, 2);
  const content = renderRequest(flags.fields);
  const review = validateRequest(path, new TextEncoder().encode(content), { config: governance.config, requester: login, now });

  for (const problem of problemsAsFlags(content, review.problems)) io.stderr(formatFlagProblem(problem));
  const decision = review.decision;
  if (!review.valid || !decision?.rule) {
    const hint = decision?.rule ? undefined : nameHint(governance.config, flags.fields.permission_set, flags.fields.account);
    if (hint) io.stderr(`hint: ${hint.flag}: ${hint.message}`);
    throw new CliError("nothing was written: change what the errors above name, and run it again");
  }

  const rule = decision.rule;
  io.stderr(
    `rule: rules[${rule.index}] (${governance.config.file} line ${rule.line}) decides it: up to ${formatDuration(rule.maxDurationMs)}${rule.requireTicket ? ", with a ticket" : ""}`,
  );
  const approvers = approversOf(governance, path, login);
  io.stderr(
    `approval: needs ${decision.approvalsRequired} approval${decision.approvalsRequired === 1 ? "" : "s"} from ${approvers.owners}`,
  );
  for (const blocker of approvers.blockers) io.stderr(`warning: ${blocker}`);

  await refuseExisting(session, path);
  if (!flags.openPr) {
    writeRequest(session.root!, path, content);
    io.stderr(`wrote ${path}; commit it on a new branch and open a pull request, or run again with --open-pr`);
    io.stdout(path);
    return 0;
  }
  const github = session.github!;
  if (github.canPush === false)
    throw new CliError(
      `${github.viewer} cannot push to ${fullName(github.repo)} (GitHub says so for the token from ${github.token.source}); ask for write access to it`,
    );
  const { fields } = flags;
  const opened = await openPullRequest(github.octokit, github.token, {
    repo: github.repo,
    base: session.policy.branch,
    baseSha: session.policy.sha,
    path,
    content,
    title: `Access request: ${fields.permission_set} on ${fields.account} for ${fields.duration}`,
    body: pullRequestBody(
      path,
      fields,
      `rules[${rule.index}] (${governance.config.file} line ${rule.line})`,
      decision.approvalsRequired,
      approvers.owners,
    ),
  });
  io.stderr(`opened pull request #${opened.number} from ${opened.branch}: ${opened.url}`);
  io.stdout(opened.url);
  return 0;
}

/** undefined for --help. */
function parseFlags(argv: readonly string[]): RequestFlags | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        account: { type: "string" },
        "permission-set": { type: "string" },
        duration: { type: "string" },
        reason: { type: "string" },
        ticket: { type: "string" },
        "starts-at": { type: "string" },
        name: { type: "string" },
        repo: { type: "string" },
        login: { type: "string" },
        "open-pr": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  if (values.help) return undefined;
  const missing = REQUIRED.filter(([flag]) => values[flag] === undefined || values[flag].trim() === "");
  if (missing.length > 0) throw new CliError(`missing ${missing.map(([, hint]) => hint).join(", ")}`, 2);
  return {
    fields: {
      account: values.account!,
      permission_set: values["permission-set"]!,
      duration: values.duration!,
      reason: values.reason!,
      ...(values.ticket !== undefined ? { ticket: values.ticket } : {}),
      ...(values["starts-at"] !== undefined ? { starts_at: values["starts-at"] } : {}),
    },
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.repo !== undefined ? { repo: values.repo } : {}),
    ...(values.login !== undefined ? { login: values.login } : {}),
    openPr: values["open-pr"],
  };
}

/**
 * The requester: the token's person when there is a token (the pull request will be theirs, and
 * the policy judges its author); without one, --login or `git config github.user`.
 */
function requesterOf(session: Session, flag: string | undefined, io: ToolIo): string {
  if (session.github) {
    const { viewer, token } = session.github;
    if (flag !== undefined && flag.toLowerCase() !== viewer.toLowerCase())
      throw new CliError(
        `--login ${flag} is not the token's person (${viewer}, from ${token.source}): a request is for the author of its pull request; leave out --login, or use ${flag}'s own token`,
        2,
      );
    return viewer;
  }
  const login = flag ?? git(io, ["config", "github.user"], session.root);
  if (!login)
    throw new CliError(
      "without a GitHub token jitsudo cannot ask GitHub who you are: pass --login <your GitHub login>, or run git config --global github.user <your GitHub login>, or set GITHUB_TOKEN",
      2,
    );
  return checkedLogin(login);
}

/** A request file is never overwritten: an edit of a merged one is a new request for that file. */
async function refuseExisting(session: Session, path: string): Promise<void> {
  const already = `${path} already exists`;
  const change =
    "pass --name <another name> for a second request, or edit that file (its duration, to extend a grant) in a pull request of its own";
  if (session.root && existsSync(join(session.root, path))) throw new CliError(`${already} in your clone; ${change}`);
  const github = session.github;
  if (!github) return;
  const { repo, octokit, token } = github;
  try {
    await octokit.rest.repos.getContent({ owner: repo.owner, repo: repo.name, path, ref: session.policy.sha });
  } catch (error) {
    if (statusOf(error) === 404) return;
    throw failure(error, `checking whether ${path} exists in ${fullName(repo)}`, token);
  }
  throw new CliError(`${already} on ${session.policy.branch} of ${fullName(repo)}; ${change}`);
}

function writeRequest(root: string, path: string, content: string): void {
  const target = join(root, path);
  // A directory on the way that is a symbolic link (committed by anyone with write access) would
  // carry the file outside access-requests/, or outside the clone.
  let walked = root;
  for (const part of dirname(path).split("/")) {
    walked = join(walked, part);
    // lstat, not exists: a dangling link (to a directory mkdir would create elsewhere) counts too.
    if (lstatSync(walked, { throwIfNoEntry: false })?.isSymbolicLink())
      throw new CliError(
        `${relative(root, walked)} in your clone is a symbolic link; request files are only written into real directories under access-requests/`,
      );
  }
  mkdirSync(dirname(target), { recursive: true });
  try {
    // "wx": fails if the file appeared since the check, rather than replacing it.
    writeFileSync(target, content, { flag: "wx" });
  } catch (error) {
    throw new CliError(`could not write ${path} in your clone: ${(error as Error).message}`);
  }
}

/**
 * The pull request's description. Owners are in code spans, so opening the pull request does not
 * notify them a second time (GitHub requests code owners' reviews itself where that is set up).
 */
function pullRequestBody(path: string, fields: RequestFields, rule: string, approvals: number, owners: string): string {
  return [
    `Requests \`${fields.permission_set}\` on account \`${fields.account}\` for ${fields.duration}${fields.ticket ? ` (ticket ${fields.ticket})` : ""}; the reason is in \`${path}\`.`,
    "",
    `Falls under ${rule}: needs ${approvals} code-owner approval${approvals === 1 ? "" : "s"} from ${owners.replace(/@[\w/.-]+/g, (owner) => `\`${owner}\``)}.`,
    "",
    "Opened with `jitsudo request`; jitsudo checks the request on this pull request.",
  ].join("\n");
}

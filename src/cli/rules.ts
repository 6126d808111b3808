/**
 * `jitsudo rules [--login x] [--repo owner/name]`: what a person may request under the policy of
 * the default branch (read as `jitsudo request` reads it), rule by rule, with its limits and how
 * many approvals, and who the code owners of their request files are.
 */
import { parseArgs } from "node:util";
import { REQUESTS_DIR } from "../requests/access-request.js";
import { approversOf } from "./approvers.js";
import { formatRuleListing, listRules } from "./rule-listing.js";
import { checkedLogin, openSession, unusablePolicy } from "./session.js";
import { CliError, git, type ToolIo } from "./tool-io.js";

export const RULES_USAGE = "usage: jitsudo rules [--login <GitHub login>] [--repo <owner/name>]";

/** Returns the exit code: 0 listed, 1 no usable policy, 2 bad usage. */
export async function rulesCommand(argv: readonly string[], io: ToolIo): Promise<number> {
  try {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: { login: { type: "string" }, repo: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
      }));
    } catch (error) {
      throw new CliError((error as Error).message, 2);
    }
    if (values.help) {
      io.stdout(RULES_USAGE);
      return 0;
    }
    const session = await openSession(io, {
      ...(values.repo !== undefined ? { repo: values.repo } : {}),
      requireGitHub: false,
      requireClone: false,
    });
    const { governance, source } = session.policy;
    io.stderr(`policy and CODEOWNERS: ${source}`);
    const unusable = unusablePolicy(governance);
    if (unusable) throw unusable;

    // Anyone's rules may be listed: --login, else the token's person, else git's github.user.
    const login = values.login ?? session.github?.viewer ?? git(io, ["config", "github.user"], session.root);
    if (!login)
      throw new CliError("whose rules? pass --login <GitHub login>, or set GITHUB_TOKEN (or run gh auth login) to list your own", 2);
    checkedLogin(login);

    for (const line of formatRuleListing(listRules(governance.config, login), governance.config.file)) io.stdout(line);
    // Owners may differ by requester directory; a file name stands for any in it.
    const approvers = approversOf(governance, `${REQUESTS_DIR}${login}/request.yaml`, login);
    io.stdout("");
    io.stdout(`approvers of ${login}'s requests (${REQUESTS_DIR}${login}/): ${approvers.owners}`);
    for (const blocker of approvers.blockers) io.stderr(`warning: ${blocker}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    io.stderr(`jitsudo rules: ${error.message}`);
    if (error.exitCode === 2) io.stderr(RULES_USAGE);
    return error.exitCode;
  }
}

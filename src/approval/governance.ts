/**
 * Governance: the files that decide who may approve what (CODEOWNERS in any of GitHub's three
 * locations, and the tenant policy `.github/jitsudo.yml`). This is the one place they are read at
 * a commit (through the gateway) and judged, the same way for every caller: the pull request
 * check, the merge verdict and the revoke command. Granting fails closed: a missing, unreadable or
 * invalid file, or one GitHub itself reports errors in, is a blocker, and the message says what
 * to fix. Ending access (the revoke command, and removals in the merge verdict) is the safe
 * direction: it reads CODEOWNERS whole, and nothing wrong in it stops a removal.
 *
 * Judging is pure (`judgeGovernance`): the pure verdicts take the files as evidence, with the
 * judgement `readGovernance` already made beside them, and a unit test needs no GitHub.
 */
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES, parseCodeowners, type Codeowners } from "./codeowners.js";
import { EMPTY_TENANT_CONFIG, parseTenantConfig, TENANT_CONFIG_PATH, type TenantConfig } from "../config/tenant.js";
import type { GitHubGateway } from "../github/gateway.js";
import type { CodeownersErrorReport, FileAt, FileBytes } from "../github/types.js";
import { printable } from "../parsing/printable.js";
import type { Problem } from "../parsing/problem.js";
import type { GovernanceChange } from "./commit-history.js";

/** Files a PR with access requests must not touch: they decide who may approve what. */
export const GOVERNANCE_PATHS: readonly string[] = [...CODEOWNERS_LOCATIONS, TENANT_CONFIG_PATH];

const GOVERNANCE_LOWER = new Set(GOVERNANCE_PATHS.map((path) => path.toLowerCase()));

/**
 * Whether a changed path is (or may be) a governance file. Case is ignored, by every caller alike
 * (the PR check, the merge verdict, direct pushes): a checkout on a case-insensitive file system,
 * or a GitHub that matched names loosely, would read `.GitHub/CODEOWNERS` as the real one, so a
 * pull request that changes it is treated as one that changes CODEOWNERS. Failing closed here costs
 * a requester a second pull request at most.
 */
export function isGovernancePath(path: string): boolean {
  return GOVERNANCE_LOWER.has(path.toLowerCase());
}

/** A reason the whole PR cannot be granted, independent of any one file's content. */
export interface Blocker {
  message: string;
  /** Where to annotate, when the cause is a file in the PR. */
  path?: string;
}

/** The governance files as read at one commit, and GitHub's own report on CODEOWNERS there. */
export interface GovernanceFiles {
  /** `.github/jitsudo.yml`. */
  configFile: FileBytes;
  /** Each of CODEOWNERS_LOCATIONS, in GitHub's order. */
  codeownersFiles: readonly FileBytes[];
  /** GitHub's own list of CODEOWNERS errors at the same commit. */
  githubCodeowners: CodeownersErrorReport;
  /** The organisation owning the repository: teams the policy names must be its own (unset: not checked). */
  organization?: string;
}

/** What the governance files say, and every reason they stop any grant. */
export interface Governance {
  /** The policy; the empty policy (no rules, so every request is denied) when it is unusable. */
  config: TenantConfig;
  /** Why the policy is unusable (missing, unreadable or invalid); undefined when it is usable. */
  policyBlocker?: Blocker;
  /** An invalid policy's problems, each at its line (empty otherwise). */
  configProblems: Problem[];
  /** Undefined when no CODEOWNERS file can be read (a blocker says so). */
  codeowners?: Codeowners;
  /** CODEOWNERS missing, unreadable or invalid, by jitsudo's reading or by GitHub's. */
  codeownersBlockers: Blocker[];
  /** Every blocker above, the policy's first. */
  blockers: Blocker[];
}

/** Governance files as evidence for a verdict, with their judgement when the caller already made it. */
export interface GovernanceEvidence extends GovernanceFiles {
  /**
   * `judgeGovernance` of the files above, when already made (`readGovernance` makes it): a
   * CODEOWNERS file of 1,000 rules takes tens of milliseconds of the event loop to parse.
   */
  governance?: Governance;
}

/** What `readGovernance` read: the files and their judgement, and the caller's other files. */
export interface GovernanceRead extends GovernanceEvidence {
  governance: Governance;
  /** The contents of `alsoRead`, in its order. */
  also: FileBytes[];
}

/**
 * Reads the governance files at `ref`, and GitHub's CODEOWNERS report there, and judges them.
 * `alsoRead` (the request files) is read in the same batch, so a pull request costs one file read.
 */
export async function readGovernance(gateway: GitHubGateway, ref: string, alsoRead: readonly FileAt[] = []): Promise<GovernanceRead> {
  // The policy shares CODEOWNERS' 3 MB read limit; its parser has a lower limit of its own.
  const at = (path: string): FileAt => ({ ref, path, maxBytes: CODEOWNERS_MAX_BYTES });
  const [contents, githubCodeowners] = await Promise.all([
    gateway.readFiles([at(TENANT_CONFIG_PATH), ...CODEOWNERS_LOCATIONS.map(at), ...alsoRead]),
    gateway.codeownersErrors(ref),
  ]);
  const governanceCount = 1 + CODEOWNERS_LOCATIONS.length;
  const files: GovernanceFiles = {
    configFile: contents[0]!,
    codeownersFiles: contents.slice(1, governanceCount),
    githubCodeowners,
    organization: gateway.owner,
  };
  return { ...files, governance: judgeGovernance(files), also: contents.slice(governanceCount) };
}

/**
 * CODEOWNERS at `ref` read whole, for ending access early (see `wholeCodeowners`); undefined when
 * no CODEOWNERS file can be read. Neither the policy nor GitHub's report is read: removing access
 * is the safe direction, and neither can stop it.
 */
export async function readWholeCodeowners(gateway: GitHubGateway, ref: string): Promise<Codeowners | undefined> {
  const files = await gateway.readFiles(CODEOWNERS_LOCATIONS.map((path) => ({ ref, path, maxBytes: CODEOWNERS_MAX_BYTES })));
  return wholeCodeowners(files);
}

/** The judgement of the evidence's governance files: the one already made, or made now. */
export function governanceOf(evidence: GovernanceEvidence): Governance {
  return evidence.governance ?? judgeGovernance(evidence);
}

/** Judges governance files already read. Pure. */
export function judgeGovernance(files: GovernanceFiles): Governance {
  const policyBlockers: Blocker[] = [];
  const { config, configProblems } = readConfig(files.configFile, policyBlockers, files.organization);
  const codeownersBlockers: Blocker[] = [];
  const codeowners = readCodeowners(files.codeownersFiles, codeownersBlockers);
  codeownersBlockers.push(...githubCodeownersBlockers(files.githubCodeowners, codeowners));
  const [policyBlocker] = policyBlockers;
  return {
    config,
    ...(policyBlocker ? { policyBlocker } : {}),
    configProblems,
    ...(codeowners ? { codeowners } : {}),
    codeownersBlockers,
    blockers: [...policyBlockers, ...codeownersBlockers],
  };
}

/**
 * CODEOWNERS read whole, past jitsudo's rule cap, as GitHub reads it (GitHub applies the last
 * matching line), for ending access, which follows GitHub's whole reading. Its errors block
 * nothing: revoking is the safe direction. Undefined when no file can be read.
 */
export function wholeCodeowners(codeownersFiles: readonly FileBytes[]): Codeowners | undefined {
  return readCodeowners(codeownersFiles, [], { maxRules: Number.POSITIVE_INFINITY });
}

function readConfig(
  file: FileBytes,
  blockers: Blocker[],
  organization: string | undefined,
): { config: TenantConfig; configProblems: Problem[] } {
  if (file.kind === "missing") {
    blockers.push({
      message: `${TENANT_CONFIG_PATH} does not exist on the base branch, so no policy allows any request; an admin must add it`,
    });
    return { config: EMPTY_TENANT_CONFIG, configProblems: [] };
  }
  if (file.kind !== "file") {
    blockers.push({
      message: `${TENANT_CONFIG_PATH} on the base branch cannot be read (${file.kind}); nothing can be granted until it is a regular file`,
    });
    return { config: EMPTY_TENANT_CONFIG, configProblems: [] };
  }
  const parsed = parseTenantConfig(file.bytes, TENANT_CONFIG_PATH, organization === undefined ? {} : { organization });
  if (parsed.ok) return { config: parsed.config, configProblems: [] };
  blockers.push({
    message: `${TENANT_CONFIG_PATH} on the base branch is invalid, so nothing can be granted until an admin fixes it (problems listed below)`,
  });
  return { config: EMPTY_TENANT_CONFIG, configProblems: parsed.problems };
}

/** `options.maxRules`: see parseCodeowners (revoking reads the whole file). */
function readCodeowners(files: readonly FileBytes[], blockers: Blocker[], options: { maxRules?: number } = {}): Codeowners | undefined {
  const index = files.findIndex((file) => file.kind !== "missing");
  const path = CODEOWNERS_LOCATIONS[index];
  const file = files[index];
  if (!file || !path) {
    blockers.push({
      message: "the base branch has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS), so nobody can approve requests",
    });
    return undefined;
  }
  if (file.kind !== "file") {
    blockers.push({
      message: `${path} on the base branch cannot be read (${file.kind === "too-large" ? "over 3 MB" : file.kind}), so nobody can approve requests`,
    });
    return undefined;
  }
  const codeowners = parseCodeowners(new TextDecoder().decode(file.bytes), path, options);
  for (const error of codeowners.errors) {
    // GitHub skips an invalid line, which can hand a path to a broader earlier rule: fail closed.
    blockers.push({
      message: `${path} line ${error.line} on the base branch is invalid (${error.message}); no request can be approved until it is fixed`,
    });
  }
  return codeowners;
}

/** GitHub ignores the CODEOWNERS lines and owners it lists as errors, which can hand a path to others. */
function githubCodeownersBlockers(report: CodeownersErrorReport, codeowners: Codeowners | undefined): Blocker[] {
  if (report.kind === "no-file") {
    return codeowners
      ? [
          {
            message: `GitHub finds no CODEOWNERS file at the base although ${codeowners.path} is there, so jitsudo cannot be sure which owners GitHub applies`,
          },
        ]
      : [];
  }
  return report.errors.map((error) => ({
    message: `GitHub reports ${printable(error.path)} line ${error.line} at the base as invalid (${printable(error.kind)}) and ignores it; no request can be approved until it is fixed`,
  }));
}

/** Commits that change a governance file, even if a later commit changes it back. */
export function governanceCommitBlockers(changes: readonly GovernanceChange[]): Blocker[] {
  return changes.map((change) => ({
    message: `commit ${change.sha.slice(0, 7)} of this pull request changes ${change.paths.join(" and ")}; even when a later commit changes it back, a pull request that touches code owners or policy grants nothing (a rebase merge lands every commit), so put such changes in their own pull request`,
  }));
}

/** GitHub's lists stop at 3,000 files and 250 commits: a judgement of part of a pull request is none. */
export function incompleteListBlockers(
  listed: { files: number; commits: number },
  counts: { changedFiles?: number; commits?: number },
): Blocker[] {
  const blockers: Blocker[] = [];
  if (counts.changedFiles === undefined)
    blockers.push({
      message: "GitHub did not say how many files this pull request changes, so jitsudo cannot tell whether it saw them all",
    });
  else if (listed.files < counts.changedFiles) {
    blockers.push({
      message: `GitHub lists only ${listed.files} of this pull request's ${counts.changedFiles} changed files, so jitsudo cannot judge the ones it cannot see; split it into smaller pull requests`,
    });
  }
  if (counts.commits !== undefined && listed.commits < counts.commits) {
    blockers.push({
      message: `GitHub lists only ${listed.commits} of this pull request's ${counts.commits} commits, so jitsudo cannot check who wrote them all; split it into smaller pull requests`,
    });
  }
  return blockers;
}

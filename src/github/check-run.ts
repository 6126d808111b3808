/**
 * The check run for a pull request's head commit. Only a GitHub App can create check runs, so a
 * green "jitsudo" check cannot be forged by a user; every problem becomes an annotation at the
 * exact line and column of the key or value to change.
 */
import { capped, firstUnprintable, printable } from "../parsing/printable.js";
import { formatProblem, type Problem } from "../parsing/problem.js";
import type { PullRequestReview } from "../approval/pull-request-review.js";
import type { CheckAnnotation, CheckRunInput } from "./types.js";
import { CHECK_OUTPUT_LIMIT, code, fitted, text } from "./markdown.js";

export const CHECK_NAME = "jitsudo";
/** One check run shows at most this many annotations: one API call (GitHub takes 50 per call). */
export const MAX_ANNOTATIONS = 50;
/** An annotation's message is plain text on GitHub; still, one line and not pages. */
const ANNOTATION_MESSAGE_LIMIT = 1_000;

export function checkRunFor(review: PullRequestReview): CheckRunInput {
  const base = { name: CHECK_NAME, headSha: review.pr.headSha, externalId: `pr-${review.pr.number}` };
  if (!review.touchesRequests) {
    return {
      ...base,
      conclusion: "success",
      output: { title: "No access requests", summary: "This pull request adds, changes or removes no file under `access-requests/`." },
    };
  }

  const fileProblems = review.requests.flatMap((request) => request.problems);
  const errors = fileProblems.filter((problem) => problem.severity === "error").length + review.blockers.length;
  const requests = review.requests.length;
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  const title =
    review.conclusion === "success"
      ? `${plural(requests, "access request")} valid${review.removals.length ? `, ${plural(review.removals.length, "removal")}` : ""}: waiting for code-owner approval`
      : `${plural(errors, "problem")} to fix`;

  const lines: string[] = [];
  for (const blocker of review.blockers) lines.push(`- :no_entry: ${text(blocker.message)}`);
  for (const request of review.requests) {
    const mark = request.valid ? ":white_check_mark:" : ":x:";
    lines.push(
      `- ${mark} ${code(request.file)}${request.valid ? "" : `: ${plural(request.problems.filter((p) => p.severity === "error").length, "problem")}`}`,
    );
  }
  for (const removal of review.removals)
    lines.push(`- :wastebasket: ${code(removal.path)} removed: its live grant ends when this is merged and approved`);
  for (const path of review.ignored)
    lines.push(`- :grey_question: ${code(path)} is ignored: only \`.yaml\` and \`.yml\` files are access requests`);

  // A path with a line break or another unprintable character cannot carry an annotation.
  const annotations = [
    ...review.blockers.flatMap(blockerAnnotation),
    ...fileProblems.filter((problem) => !firstUnprintable(problem.file)).map(annotationFor),
  ];
  if (annotations.length > MAX_ANNOTATIONS) {
    lines.push("", `${annotations.length - MAX_ANNOTATIONS} more problems are not annotated in the files; fix the ones shown first.`);
  }
  // A list of escaped lines, never a fenced block: a value holding a fence could end one.
  const details = [...fileProblems, ...review.configProblems].map((problem) => `- ${text(formatProblem(problem))}`);
  return {
    ...base,
    conclusion: review.conclusion,
    output: {
      title,
      summary: truncate(lines.join("\n")),
      ...(details.length ? { text: truncate(details.join("\n")) } : {}),
      annotations: annotations.slice(0, MAX_ANNOTATIONS),
    },
  };
}

export function annotationFor(problem: Problem): CheckAnnotation {
  const sameLine = problem.endLine === undefined || problem.endLine === problem.line;
  return {
    path: problem.file,
    start_line: problem.line,
    end_line: sameLine ? problem.line : (problem.endLine ?? problem.line),
    // GitHub only accepts columns on single-line annotations.
    ...(sameLine ? { start_column: problem.column, end_column: Math.max(problem.column, problem.endColumn ?? problem.column) } : {}),
    annotation_level: problem.severity === "error" ? "failure" : "warning",
    title: "jitsudo",
    message: capped(printable(problem.message), ANNOTATION_MESSAGE_LIMIT),
  };
}

function blockerAnnotation(blocker: { path?: string; message: string }): CheckAnnotation[] {
  if (!blocker.path) return [];
  return [
    {
      path: blocker.path,
      start_line: 1,
      end_line: 1,
      annotation_level: "failure",
      title: "jitsudo",
      message: capped(printable(blocker.message), ANNOTATION_MESSAGE_LIMIT),
    },
  ];
}

function truncate(markdown: string): string {
  return fitted(markdown, CHECK_OUTPUT_LIMIT, "… (cut at GitHub's limit for a check run; `npx jitsudo validate` lists every problem)");
}

/** The check shown when jitsudo itself failed: fail closed, and say so without leaking internals. */
export function errorCheckRun(headSha: string, reference: string): CheckRunInput {
  return {
    name: CHECK_NAME,
    headSha,
    conclusion: "failure",
    output: {
      title: "jitsudo could not check this pull request",
      summary: `An error stopped the check (reference \`${reference}\` in jitsudo's logs). Nothing will be granted from an unchecked request; re-run the check once the cause is fixed.`,
    },
  };
}

/**
 * Rulebook: "one push must cost jitsudo, GitHub and the reader a bounded amount". A request file is
 * cheap to write and expensive to describe: 8 KiB of unknown keys is eight hundred problems, ten
 * such files eight thousand, and each problem could become an annotation (GitHub takes 50 per API
 * call, so thousands of annotations are hundreds of calls on every push), a line of the sticky
 * comment and a line of the merge verdict. A 64 KiB file or a pull request of hundreds of request
 * files costs parsing before anything is said.
 *
 * The hole this guards: no caps. The attacks here push such files through Probot's real webhook
 * pipeline and count what jitsudo wrote (annotations and problems as the local GitHub stores them)
 * and what it asked of GitHub (the API calls the local GitHub recorded): at most 20 problems are
 * described per file, at most 50 annotations per check run (one call), the summary says how many
 * more there are, a second push costs what the first did, an oversized file is refused unparsed
 * with one message naming the limit, and a pull request with more request files than jitsudo
 * judges is refused with one message and no per-file annotations.
 */
import { describe, expect, it } from "vitest";
import { MAX_ANNOTATIONS } from "../../src/github/check-run.js";
import { MAX_REQUEST_FILES_PER_PULL_REQUEST, REQUEST_FILE_MAX_BYTES } from "../../src/requests/access-request.js";
import { MAX_PROBLEMS_PER_FILE } from "../../src/parsing/schemas.js";
import type { CheckRun } from "../../src/sandbox/github/issues.js";
import { READ_ONLY, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

/** GitHub refuses a comment body over this many characters ("body is too long (maximum is 65536 characters)"). */
const GITHUB_COMMENT_LIMIT = 65_536;
/** GitHub refuses a check run summary or text over this many characters. */
const GITHUB_CHECK_OUTPUT_LIMIT = 65_535;
/** Check-run API calls one push may cost: the create, and at most a couple of updates. */
const CHECK_RUN_CALLS_PER_PUSH = 3;

/** A request file of unknown keys, as close to 8 KiB as it gets without going over; `width` pads each key. */
function unknownKeys(seed: string, width = 0): string {
  let text = "";
  for (let index = 0; ; index++) {
    const line = `${seed}_${index}${"x".repeat(width)}: 1\n`;
    if (new TextEncoder().encode(text + line).byteLength > REQUEST_FILE_MAX_BYTES) return text;
    text += line;
  }
}

const isCheckRunCall = (path: string) => /^\/repos\/acme\/access\/check-runs(\/\d+)?$/.test(path);

/** The check run the last validation published on the pull request's head, and what it cost. */
function lastCheckRun(world: SecurityWorld, number: number): CheckRun {
  const head = world.access.pull(number).headSha;
  const run = world.access.conversation.checkRuns.filter((candidate) => candidate.headSha === head).at(-1);
  expect(run, "no check run on the head").toBeDefined();
  return run!;
}

/** Delivers a webhook GitHub sent and counts the API calls jitsudo made while handling it. */
async function costOf(world: SecurityWorld, kind: string): Promise<{ all: number; checkRuns: number }> {
  const mark = world.github.calls.length;
  expect(await world.harness.deliverLatest(kind)).toBe(200);
  const calls = world.github.calls.slice(mark);
  return { all: calls.length, checkRuns: calls.filter((call) => isCheckRunCall(call.path)).length };
}

describe("caps on what one push costs", () => {
  const world = useSecurityWorld();

  it("describes at most 20 problems of a request file of 8 KiB of unknown keys, and says there are more", async () => {
    const path = world.newPath();
    const content = unknownKeys("surplus");
    const number = world.openPull({ commits: [{ files: { [path]: content } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);

    const annotations = lastCheckRun(world, number).annotations.filter((annotation) => annotation.path === path);
    const described = annotations.filter((annotation) => !annotation.message.startsWith("…"));
    expect(described.length).toBeGreaterThan(0);
    expect(described.length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_FILE);
    // Beyond the cap, one line says how many more there are (never one line each).
    expect(annotations.length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_FILE + 1);
    expect(annotations.at(-1)?.message).toMatch(/^… and up to \d+ more problems in this file/);
    const commentLines = world
      .comment(number)
      .split("\n")
      .filter((line) => line.startsWith("- line "));
    expect(commentLines.length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_FILE + 1);

    world.review(number, "dave");
    await world.merge(number, "merge");
    const reasons = (await world.verdict(number))?.reasons ?? [];
    expect(reasons.filter((reason) => reason.startsWith(`${path}: `)).length).toBeGreaterThan(0);
    expect(reasons.filter((reason) => reason.startsWith(`${path}: `)).length).toBeLessThanOrEqual(MAX_PROBLEMS_PER_FILE + 1);
  });

  it("annotates at most 50 problems of ten such files in one API call, says how many more there are, and a second push costs the same", async () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, index) => [world.newPath(), unknownKeys(`file${index}`)]));
    const number = world.openPull({ commits: [{ files }] });
    const first = await costOf(world, "pull_request.opened");
    const run = lastCheckRun(world, number);
    const problems = Object.keys(files).length * (MAX_PROBLEMS_PER_FILE + 1);
    expect(run.annotations.length).toBe(MAX_ANNOTATIONS);
    expect(run.output.summary).toContain(`${problems - MAX_ANNOTATIONS} more problems are not annotated in the files`);
    expect(first.checkRuns).toBeGreaterThanOrEqual(1);
    expect(first.checkRuns).toBeLessThanOrEqual(CHECK_RUN_CALLS_PER_PUSH);

    // A second push changing every file: the same work again, no more.
    const branch = world.access.pull(number).headRef;
    world.access.commit(branch, {
      files: Object.fromEntries(Object.keys(files).map((path, index) => [path, unknownKeys(`again${index}`)])),
      author: "alice",
      pusher: "alice",
    });
    const second = await costOf(world, "pull_request.synchronize");
    const rerun = lastCheckRun(world, number);
    expect(rerun.id).not.toBe(run.id);
    expect(rerun.annotations.length).toBe(MAX_ANNOTATIONS);
    expect(second.checkRuns).toBe(first.checkRuns);
    expect(second.all).toBeLessThanOrEqual(first.all);
  });

  it("refuses a 64 KiB request file unparsed, with one message naming the limit", async () => {
    const path = world.newPath();
    // 64 KiB that would be hundreds of problems if it were parsed.
    const content = `${READ_ONLY}${"unknown_key_that_would_be_a_problem: [1, 2\n".repeat(1_490)}`.slice(0, 64 * 1024);
    const size = new TextEncoder().encode(content).byteLength;
    const number = world.openPull({ commits: [{ files: { [path]: content } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    const message = `file is ${size} bytes, over the limit of ${REQUEST_FILE_MAX_BYTES} bytes; keep only the request in it`;
    expect(lastCheckRun(world, number).annotations.map((annotation) => [annotation.path, annotation.message])).toEqual([[path, message]]);

    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);
    expect((await world.verdict(number))?.reasons).toEqual([`${path}: line 1: ${message}`]);
  });

  it("refuses a pull request of more request files than jitsudo judges with one message and no per-file annotations", async () => {
    const count = MAX_REQUEST_FILES_PER_PULL_REQUEST + 1;
    // Each file would be a problem of its own if it were read.
    const files = Object.fromEntries(Array.from({ length: count }, (_, index) => [world.newPath(), `${READ_ONLY}surplus_${index}: 1\n`]));
    const mark = world.mark();
    const number = world.openPull({ commits: [{ files }] });
    const callMark = world.github.calls.length;
    const cost = await costOf(world, "pull_request.opened");
    // None of the files is read: the limit bounds the work, not only what is said.
    const asked = JSON.stringify(world.github.calls.slice(callMark).map((call) => call.body));
    expect(Object.keys(files).filter((path) => asked.includes(path))).toEqual([]);
    const message = `this pull request adds or changes ${count} request files; jitsudo judges at most ${MAX_REQUEST_FILES_PER_PULL_REQUEST} in one pull request, so split it into smaller ones`;
    const run = lastCheckRun(world, number);
    expect(run.conclusion).toBe("failure");
    expect(run.annotations.filter((annotation) => annotation.path.startsWith("access-requests/"))).toEqual([]);
    expect(run.output.summary).toContain("this pull request adds or changes 51 request files");
    expect(world.comment(number)).not.toContain("surplus_");
    expect(cost.checkRuns).toBe(1);

    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    expect((await world.verdict(number))?.reasons).toEqual([message]);
  });

  /** The most jitsudo will describe: 50 files, each 20 problems (and the "more" line) as long as a problem gets. */
  const largestPull = () =>
    world.openPull({
      commits: [
        {
          files: Object.fromEntries(
            Array.from({ length: MAX_REQUEST_FILES_PER_PULL_REQUEST }, (_, index) => [world.newPath(), unknownKeys(`f${index}`, 90)]),
          ),
        },
      ],
    });

  it("keeps the check run and the sticky comment within GitHub's size limits for the largest pull request jitsudo judges", async () => {
    const number = largestPull();
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    const run = lastCheckRun(world, number);
    expect(run.output.title).toBe(`${MAX_REQUEST_FILES_PER_PULL_REQUEST * (MAX_PROBLEMS_PER_FILE + 1)} problems to fix`);
    expect((run.output.summary ?? "").length).toBeLessThanOrEqual(GITHUB_CHECK_OUTPUT_LIMIT);
    expect((run.output.text ?? "").length).toBeLessThanOrEqual(GITHUB_CHECK_OUTPUT_LIMIT);
    // GitHub answers 422 to a longer body: the requester would see no comment at all.
    expect(world.comment(number)).toContain("needs changes");
    expect(world.comment(number).length, "the sticky comment at check time").toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  });

  it("keeps the merge verdict comment within GitHub's size limit for the largest pull request jitsudo judges", async () => {
    const number = largestPull();
    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);
    // GitHub answers 422 to a longer body: the verdict is recorded, but nobody is told why nothing was granted.
    expect(world.comment(number)).toContain("merge not approved, nothing was granted");
    expect(world.comment(number).length, "the merge verdict comment").toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  });
});

import { describe, expect, it } from "vitest";
import { code, text } from "../../src/github/markdown.js";
import { renderReviewComment, STICKY_MARKER } from "../../src/github/sticky-comment.js";
import type { FileBytes } from "../../src/github/types.js";
import { reviewPullRequest } from "../../src/approval/pull-request-review.js";
import { policyYaml, requestYaml } from "../support/policy-fixtures.js";

const enc = (value: string): FileBytes => ({ kind: "file", bytes: new TextEncoder().encode(value), blobSha: "0".repeat(40) });

describe("markdown from untrusted text", () => {
  it("renders any text as one inline code span", () => {
    expect(code("plain")).toBe("`plain`");
    expect(code("a `tick` and a | pipe")).toBe("``a `tick` and a \\| pipe``");
    expect(code("`edge`")).toBe("`` `edge` ``");
    // A line break is written out, so the value reads as one line and cannot end the span.
    expect(code("two\nlines")).toBe("`two\\u000alines`");
  });

  it("neutralises mentions, HTML and table breaks in prose", () => {
    expect(text("ping @acme/everyone <img src=x> | done")).toBe("ping @\u200bacme/everyone \\<img src=x\\> \\| done");
  });

  it("keeps a hostile reason from mentioning people or forging jitsudo's marker", () => {
    const reason = `@acme/everyone please ${STICKY_MARKER} <script>`;
    const review = reviewPullRequest({
      pr: {
        number: 7,
        headSha: "a".repeat(40),
        baseSha: "b".repeat(40),
        baseRef: "main",
        authorLogin: "alice",
        state: "open",
        changedFiles: 1,
        commitCount: 1,
      },
      defaultBranch: "main",
      files: [{ path: "access-requests/a.yaml", status: "added" }],
      configFile: enc(policyYaml()),
      codeownersFiles: [enc("/access-requests/ @bob\n"), { kind: "missing" }, { kind: "missing" }],
      requestFiles: new Map([["access-requests/a.yaml", enc(requestYaml({ reason }))]]),
      listedCommits: 1,
      governanceChanges: [],
      githubCodeowners: { kind: "ok", errors: [] },
      now: new Date("2026-11-25T12:00:00Z"),
    });
    const body = renderReviewComment(review);
    expect(body).toContain(`| Reason | \`${reason}\` |`);
    // Outside that code span, neither the mention nor the marker appears.
    expect(body.replace(`\`${reason}\``, "")).not.toMatch(/@acme\/everyone|jitsudo:sticky|<script>/);
  });
});

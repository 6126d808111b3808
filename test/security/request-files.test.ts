/**
 * Rulebook, the request file itself: "a request file of 1 MB, a YAML alias bomb, a non-UTF-8 file,
 * a file outside access-requests/", "a request file that is a symlink or a submodule (mode 120000 /
 * 160000): not a request file", "a request file whose name holds a line terminator (\n, \r,
 * U+2028, U+2029) or other control characters", "a PR with more changed files than the files API
 * lists (3,000): grant nothing rather than judge part", "the request names a principal other than
 * the author's own when the policy does not allow it", "a later PR edits an already merged request
 * file to lengthen a live grant without new approval", and starts_at's upper bound (max_lead_time).
 */
import { describe, expect, it } from "vitest";
import type { FileSpec } from "../../src/sandbox/github.js";
import { READ_ONLY, useSecurityWorld } from "./support/security-world.js";

describe("request files that are not what they seem", () => {
  const world = useSecurityWorld();

  /** Opens, approves and merges a pull request of one commit; asserts nothing was granted. */
  const mergeRefused = async (files: Record<string, FileSpec>, method: "merge" | "squash" | "rebase" = "squash") => {
    const mark = world.mark();
    const number = world.openPull({ commits: [{ files }] });
    world.review(number, "dave");
    await world.merge(number, method);
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    return { number, verdict: await world.verdict(number) };
  };

  it("refuses a symlink whose target text is itself a valid request", async () => {
    const path = world.newPath();
    const { number, verdict } = await mergeRefused({ [path]: { symlink: READ_ONLY } });
    expect(verdict?.reasons).toContain(`${path}: line 1: is not a regular file (a symlink); a request must be a plain YAML file`);
    expect(world.comment(number)).toContain("a symlink");
  });

  it("refuses a submodule at a request path", async () => {
    const path = world.newPath();
    const { verdict } = await mergeRefused({ [path]: { submodule: "5".repeat(40) } }, "merge");
    expect(verdict?.verdict).toBe("rejected");
    expect(verdict?.reasons.some((reason) => reason.startsWith(`${path}: line 1: `))).toBe(true);
  });

  it.each([
    ["a line feed", "\n", "U+000A"],
    ["a carriage return", "\r", "U+000D"],
    ["a line separator", "\u2028", "U+2028"],
    ["a paragraph separator", "\u2029", "U+2029"],
    ["a right-to-left override", "\u202e", "U+202E"],
  ])("refuses a request file whose name holds %s", async (_name, char, codePoint) => {
    const path = `access-requests/alice/inc${char}ident.yaml`;
    const { number, verdict } = await mergeRefused({ [path]: READ_ONLY });
    const escaped = `access-requests/alice/inc\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}ident.yaml`;
    expect(verdict?.reasons, JSON.stringify(verdict)).toContain(
      `${escaped}: the file name holds ${codePoint} (a control, line-break, invisible or text-direction character) at position 26; rename the file using letters, digits, "-", "_" and "."`,
    );
    // The comment shows the name escaped: the character itself never reaches it.
    expect(world.comment(number)).toContain(`the file name holds ${codePoint.replace("+", "\\+")}`); // Markdown-escaped
    expect(world.comment(number)).not.toContain(`inc${char}ident`);
  });

  it.each([
    [
      "a 1 MB file",
      `${READ_ONLY}# ${"x".repeat(1024 * 1024)}\n`,
      "line 1: file is 1048688 bytes, over the limit of 8192 bytes; keep only the request in it",
    ],
    [
      "a YAML alias bomb",
      'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n',
      "line 2: YAML aliases (*a) are not allowed here; write the value out in full (18 aliases in this file)",
    ],
    [
      "a request for someone else",
      `${READ_ONLY}principal: bob@example.com\n`,
      `line 5: principal "bob@example.com" is not the author's own (alice maps to "alice@example.com"); rules[1] (.github/jitsudo.yml line 15) does not allow requesting for someone else, so remove principal`,
    ],
    [
      "a start further away than the rule allows",
      `${READ_ONLY}starts_at: 2030-01-01T00:00:00Z\n`,
      'line 5: starts_at "2030-01-01T00:00:00Z" is more than 30d away, the furthest rules[1] (.github/jitsudo.yml line 15) allows (max_lead_time); ask closer to the time you need the access',
    ],
  ])("refuses %s", async (_name, content, reason) => {
    const path = world.newPath();
    const { verdict } = await mergeRefused({ [path]: content });
    expect(verdict?.reasons, JSON.stringify(verdict)).toContain(`${path}: ${reason}`);
  });

  it("refuses a request file that is not UTF-8", async () => {
    const path = world.newPath();
    const bytes = new Uint8Array([...new TextEncoder().encode('account: "123456789012"\nreason: "caf'), 0xe9, 0x22, 0x0a]);
    const { verdict } = await mergeRefused({ [path]: bytes });
    expect(verdict?.reasons).toContain(`${path}: line 2: file is not valid UTF-8 (byte 0xE9); save it as UTF-8`);
  });

  it("does not treat a file outside access-requests/ as a request", async () => {
    const mark = world.mark();
    const number = world.openPull({ commits: [{ files: { "requests/alice.yaml": READ_ONLY } }] });
    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);
    expect((await world.verdict(number))?.verdict).toBe("ignored");
    expect(world.createsSince(mark)).toBe(0);
  });

  it("grants nothing for a pull request with more changed files than GitHub lists", async () => {
    const files: Record<string, FileSpec> = { [world.newPath()]: READ_ONLY };
    for (let index = 0; index < 3000; index++) files[`docs/generated/page-${index}.md`] = `page ${index}\n`;
    const { number, verdict } = await mergeRefused(files, "merge");
    expect(verdict?.reasons).toContain(
      "GitHub lists only 3000 of this pull request's 3001 changed files, so jitsudo cannot judge the ones it cannot see; split it into smaller pull requests",
    );
    expect(world.comment(number)).toContain("GitHub lists only 3000 of this pull request");
  });

  it("grants nothing for a pull request with more commits than GitHub lists", async () => {
    const mark = world.mark();
    const path = world.newPath();
    const commits = [
      { files: { [path]: READ_ONLY } },
      ...Array.from({ length: 250 }, (_, index) => ({ files: { "access-requests/notes.md": `note ${index}\n` } })),
    ];
    const number = world.openPull({ commits });
    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    expect((await world.verdict(number))?.reasons).toContain(
      "GitHub lists only 250 of this pull request's 251 commits, so jitsudo cannot check who wrote them all; split it into smaller pull requests",
    );
  });

  it("leaves a live grant as it was when a later unapproved pull request lengthens it", async () => {
    const path = world.newPath();
    const first = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    world.review(first, "dave");
    await world.merge(first, "merge");
    const [live] = await world.grants(first);
    expect(live?.status).toBe("active");

    const mark = world.mark();
    const edit = world.openPull({ commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });
    await world.merge(edit, "rebase", { by: "admin" });
    expect(await world.grants(edit)).toEqual([]);
    expect((await world.verdict(edit))?.reasons).toContain(`${path}: needs 1 code-owner approval, has 0`);
    const [after] = await world.grants(first);
    expect([after?.status, after?.expires_at.getTime()]).toEqual(["active", live!.expires_at.getTime()]);
    expect(world.createsSince(mark)).toBe(0);
  });
});

/**
 * Rulebook: "the bot's words are the bot's". Every value jitsudo repeats came from someone else: a
 * request file (its values, its unknown keys, its name), the tenant config on the default branch,
 * a comment, a name in Identity Center. GitHub renders comments and check run summaries and texts
 * as Markdown with HTML, so a value repeated verbatim could break out of jitsudo's sentence and
 * speak as the bot: a newline and a fence ending jitsudo's block and starting a heading
 * "## ✅ approved", an `<img>` beacon, an `@acme/everyone` mention notifying a whole organisation,
 * an entity (`&#x40;`) that decodes to a mention, a `[link](https://evil.example)`, ten thousand
 * characters, or a right-to-left override that makes the text read backwards.
 *
 * The hole this guards: values echoed verbatim (inside fenced blocks, in table cells, in the
 * failure reason of a grant), uncapped, with their control characters. Each test feeds hostile
 * values through one path of Probot's real webhook pipeline and the real worker, collects what
 * jitsudo actually sent to the local GitHub (every comment it created or edited and every check
 * run it created or updated, with its annotations, from the recorded API calls) and holds each of
 * them to `assertInert`: Markdown fields must render the value as text, plain-text fields (a check
 * run's title, an annotation's title and message, which GitHub does not render) must keep it on
 * one line, capped and without bidirectional controls. Every test also checks that the value was
 * shown, so a test cannot pass because jitsudo said nothing.
 */
import { describe, expect, it } from "vitest";
import { STICKY_MARKER } from "../../src/github/sticky-comment.js";
import { IDENTITY_STORE_ID, INSTANCE_ARN } from "../support/aws-world.js";
import { POLICY, READ_ONLY, TENANT_ROLE, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

/** A value that ends a fenced block, injects a heading that approves, and an image beacon. */
const FENCE_BREAK = "x\n```\n## ✅ approved\n<img src=https://evil.example/x.png>\n```";
const IMG = "<img src=https://evil.example/x.png>";
const MENTIONS = "@acme/everyone @everyone";
/** Entities decode after escaping: `&#x40;acme/everyone` would become a mention, `&lt;img&gt;` a tag in some renderers. */
const ENTITIES = "&lt;img src=x&gt; &#x40;acme/everyone";
const LINK = "[link](https://evil.example)";
/** RIGHT-TO-LEFT OVERRIDE: "Trojan Source" text that reads other than it is. */
const BIDI = "\u202eexe.evil";
/** Ten thousand characters of one letter: no output may repeat more than a capped part of it. */
const LONG = "Q".repeat(10_000);

/** jitsudo's own mentions: the people of the security world and the code-owner team. */
const PEOPLE = new Set(["alice", "bob", "carol", "dave", "erin", "mallory", "paula", "admin", "acme/security"]);
/** Longest run of one value's text any output may hold (markdown.ts caps text at 1,000 characters). */
const LONGEST_ECHO = 1_000;

// ---------------------------------------------------------------------------------------------
// What jitsudo wrote, from the local GitHub's record of the API calls it answered.

interface Output {
  where: string;
  /** markdown: rendered by GitHub (comments, check run summary and text); plain: shown as written. */
  format: "markdown" | "plain";
  text: string;
}

/** Every comment body and check run field jitsudo sent since `mark` (an index into github.calls). */
function outputsSince(world: SecurityWorld, mark: number): Output[] {
  const outputs: Output[] = [];
  for (const call of world.github.calls.slice(mark)) {
    if (call.status >= 300 || (call.method !== "POST" && call.method !== "PATCH")) continue;
    const body = (call.body ?? {}) as Record<string, unknown>;
    const where = `${call.method} ${call.path}`;
    if (/\/issues\/(\d+\/comments|comments\/\d+)$/.test(call.path)) {
      outputs.push({ where, format: "markdown", text: String(body.body) });
    } else if (/\/check-runs(\/\d+)?$/.test(call.path)) {
      const output = (body.output ?? {}) as {
        title?: string;
        summary?: string;
        text?: string;
        annotations?: { title?: string; message: string; raw_details?: string }[];
      };
      if (output.title !== undefined) outputs.push({ where: `${where} title`, format: "plain", text: output.title });
      if (output.summary !== undefined) outputs.push({ where: `${where} summary`, format: "markdown", text: output.summary });
      if (output.text !== undefined) outputs.push({ where: `${where} text`, format: "markdown", text: output.text });
      for (const [index, annotation] of (output.annotations ?? []).entries()) {
        if (annotation.title !== undefined)
          outputs.push({ where: `${where} annotations[${index}].title`, format: "plain", text: annotation.title });
        outputs.push({ where: `${where} annotations[${index}].message`, format: "plain", text: annotation.message });
        if (annotation.raw_details !== undefined)
          outputs.push({ where: `${where} annotations[${index}].raw_details`, format: "plain", text: annotation.raw_details });
      }
    }
  }
  return outputs;
}

/** Every output since `mark` held to assertInert; returns them, to check what was shown. */
function expectAllInert(world: SecurityWorld, mark: number, values: readonly string[]): Output[] {
  const outputs = outputsSince(world, mark);
  expect(outputs.length, "jitsudo wrote nothing to check").toBeGreaterThan(0);
  for (const output of outputs) assertInert(output.text, { format: output.format, values, where: output.where });
  return outputs;
}

/** How a reader sees the text: backslash escapes resolved, zero-width spaces gone. */
function readable(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, "$1").replaceAll("\u200b", "");
}

/** All outputs joined as read, to assert that a value was shown (and so not silently dropped). */
const shown = (outputs: readonly Output[]) => outputs.map((output) => readable(output.text)).join("\n");

// ---------------------------------------------------------------------------------------------
// assertInert: what GitHub would render from a value, found by reading the Markdown as GitHub does.

interface Segment {
  code: boolean;
  /** For text: the characters as written, with every backslash-escaped one replaced by U+0000 (it is literal). */
  text: string;
}

/** One line split into code spans and text (CommonMark: a backslash escapes punctuation; a run of n backticks opens a span only if n close it). */
function segments(line: string): Segment[] {
  const out: Segment[] = [];
  let text = "";
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === "\\" && /[!-/:-@[-`{-~]/.test(line[index + 1] ?? "")) {
      text += "\u0000";
      index += 2;
      continue;
    }
    if (char === "`") {
      const run = /^`+/.exec(line.slice(index))![0];
      let close = -1;
      for (let at = index + run.length; at < line.length;) {
        const next = /^`+/.exec(line.slice(at));
        if (!next) {
          at += 1;
          continue;
        }
        if (next[0].length === run.length) {
          close = at;
          break;
        }
        at += next[0].length;
      }
      if (close >= 0) {
        out.push({ code: false, text }, { code: true, text: line.slice(index + run.length, close) });
        text = "";
        index = close + run.length;
        continue;
      }
      text += run;
      index += run.length;
      continue;
    }
    text += char;
    index += 1;
  }
  out.push({ code: false, text });
  return out;
}

/** Characters that reorder or hide text, or break lines where no one sees a break. */
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

interface InertOptions {
  format: "markdown" | "plain";
  /** The hostile values that may be echoed in this text. */
  values: readonly string[];
  where?: string;
}

/**
 * Fails when `output` would let a value speak as jitsudo: a raw line break inside an echoed value,
 * a bidirectional or other control character, a run of one value longer than the cap; and in
 * Markdown also a fence (jitsudo writes no fenced blocks, so any fence is someone else's), a line
 * starting with a line of a value (`## ✅ approved`), an HTML tag, an entity, a link or autolink to
 * the value's site, or a mention of anyone but the people jitsudo names itself. Code spans are
 * inert on GitHub (no HTML, mentions, links or entities inside), so only text outside them counts.
 */
function assertInert(output: string, options: InertOptions): void {
  const where = options.where ?? "output";
  const fail = (what: string) => expect.fail(`${where}: ${what}\n--- the output ---\n${output}`);

  const control = CONTROLS.exec(output);
  if (control) fail(`holds U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")} raw`);
  const longRun = /(.)\1{999,}/su.exec(output);
  if (longRun && longRun[0].length > LONGEST_ECHO) fail(`repeats ${longRun[0].length} characters of one value (cap ${LONGEST_ECHO})`);

  // A line break of a value kept as a line break: the value's next line starts a line of the output.
  const read = readable(output);
  for (const value of options.values) {
    const lines = value.split(/\r\n|\r|\n/);
    for (let index = 1; index < lines.length; index++) {
      const [before, after] = [lines[index - 1]!, lines[index]!];
      if (after.trim() && read.includes(`${before}\n${after}`))
        fail(`keeps the line break between ${JSON.stringify(before)} and ${JSON.stringify(after)}`);
    }
  }
  if (options.format === "plain") return;

  // jitsudo's own hidden marker (an HTML comment GitHub does not show) opens its sticky comment.
  const ownLines = (output.startsWith(`${STICKY_MARKER}\n`) ? output.slice(STICKY_MARKER.length + 1) : output).split("\n");
  for (const line of ownLines) {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fail(`has a fence line ${JSON.stringify(line)}; jitsudo writes no fenced blocks`);
    for (const value of options.values) {
      for (const valueLine of value.split(/\r\n|\r|\n/).slice(1)) {
        if (valueLine.trim().length >= 3 && readable(line).trimStart().startsWith(valueLine.trim()))
          fail(`starts a line with the value's line ${JSON.stringify(valueLine)}`);
      }
    }
    if (/^ {0,3}#{1,6}\s/.test(line) && /approved/i.test(line) && !/^#{3} jitsudo: /.test(line))
      fail(`has a heading that is not jitsudo's: ${JSON.stringify(line)}`);
    for (const segment of segments(line)) {
      if (segment.code) continue;
      const text = segment.text;
      const tag = /<[A-Za-z/!?]/.exec(text);
      if (tag) fail(`has an HTML tag or autolink starting ${JSON.stringify(text.slice(tag.index, tag.index + 20))}`);
      const entity = /&(#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);/i.exec(text);
      if (entity) fail(`has the entity ${entity[0]}`);
      if (/!?\[[^\]\u0000]*\]\([^)]*\)/.test(text)) fail(`has a Markdown link in ${JSON.stringify(text)}`);
      if (/(https?:\/\/|www\.)[^\s]*evil\.example/i.test(text)) fail(`has an autolink to evil.example in ${JSON.stringify(text)}`);
      for (const mention of text.matchAll(/(?:^|[^A-Za-z0-9_])@([A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9_.-]+)?)/g)) {
        if (!PEOPLE.has(mention[1]!.toLowerCase())) fail(`mentions @${mention[1]}`);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** The security world's policy with the catch-all open to any permission set. */
const ANY_SET = POLICY.replace("  - permission_sets: [ReadOnlyAccess, AdministratorAccess]\n", '  - permission_sets: ["*"]\n');

const yamlString = (value: string) => JSON.stringify(value);

/** Merges on GitHub and delivers GitHub's webhooks, without letting the worker act yet. */
async function mergeOnly(world: SecurityWorld, number: number): Promise<void> {
  const merged = world.access.merge(number, { method: "merge", by: "bob" });
  expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
  expect(await world.harness.deliver("push", merged.push)).toBe(200);
}

describe("assertInert", () => {
  it.each([
    ["a value's line break kept", `- reason: ${FENCE_BREAK}`],
    ["a fence", "- value:\n```\nx\n```"],
    ["an injected heading", "- x\n## ✅ approved"],
    ["an image tag", `- account ${IMG}`],
    ["a team mention", `- principal ${MENTIONS}`],
    ["an entity", `- ${ENTITIES}`],
    ["a link", `- ${LINK}`],
    ["an autolink", "- see https://evil.example/x"],
    ["a right-to-left override", `- ${BIDI}`],
    ["ten thousand characters", `- ${LONG}`],
  ])("recognises %s that is not neutralised", (_name, markdown) => {
    expect(() => assertInert(markdown, { format: "markdown", values: [FENCE_BREAK, LONG] })).toThrow();
  });

  it("accepts the same values written as jitsudo's markdown.ts writes them", () => {
    const markdown = [
      "| Reason | ````x\\u000a```\\u000a## ✅ approved\\u000a<img src=https://evil.example/x.png> @acme/everyone &lt; [link](https://evil.example)```` |",
      '- permission\\_set "x\\\\n\\`\\`\\`\\\\n\\#\\# ✅ approved \\<img src=https\\://evil.example/x.png\\> @\u200bacme/everyone \\&#x40; \\[link\\]\\(https\\://evil.example\\) \\\\u202e"',
      "Approved by @dave; can approve: @acme/security",
    ].join("\n");
    expect(() => assertInert(markdown, { format: "markdown", values: [FENCE_BREAK] })).not.toThrow();
  });
});

describe("the bot's words are the bot's", () => {
  const world = useSecurityWorld();

  it("shows a refused request's hostile values and keys as text in the check run, its annotations, the PR comment and the merge verdict", async () => {
    const mark = world.github.calls.length;
    // Every field invalid in its own way, each echoing a different payload; two unknown keys.
    const request = [
      `account: ${yamlString(`${IMG} @acme/everyone`)}`,
      `permission_set: ${yamlString(FENCE_BREAK)}`,
      `duration: ${yamlString(`${MENTIONS} ${ENTITIES}`)}`,
      `reason: ${yamlString("R".repeat(1_500))}`,
      `ticket: ${yamlString(`${BIDI} ${LINK}`)}`,
      `starts_at: ${yamlString(ENTITIES)}`,
      `principal: ${yamlString("P".repeat(4_000))}`,
      `${yamlString(`## ✅ approved\n${IMG}`)}: 1`,
      `${yamlString(`${MENTIONS} ${LINK} ${BIDI}`)}: 1`,
    ].join("\n");
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: `${request}\n` } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    world.review(number, "dave");
    await world.merge(number, "merge");
    expect(await world.grants(number)).toEqual([]);

    const outputs = expectAllInert(world, mark, [FENCE_BREAK, `## ✅ approved\n${IMG}`, "P".repeat(4_000)]);
    // Shown, as text: the check run's annotations, its text, the sticky comment and the verdict.
    expect(
      outputs.filter((output) => output.where.includes("annotations") && output.where.endsWith("message")).length,
    ).toBeGreaterThanOrEqual(8);
    const all = shown(outputs);
    for (const fragment of [
      "## ✅ approved",
      IMG,
      "@acme/everyone",
      "&#x40;acme/everyone",
      "[link](https://evil.example)",
      "\\u202e",
      "PPPPPPPPPP",
    ])
      expect(all).toContain(fragment);
    expect(world.comment(number)).toContain("merge not approved, nothing was granted");
  });

  it("shows a valid request's hostile reason only as inert code", async () => {
    const mark = world.github.calls.length;
    const reason = `Because ${FENCE_BREAK} ${MENTIONS} ${ENTITIES} ${LINK} ${BIDI} ${"Q".repeat(700)}`;
    world.openPull({
      commits: [{ files: { [world.newPath()]: READ_ONLY.replace('"Investigate the latency alarms"', yamlString(reason)) } }],
    });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    expect(world.access.conversation.checkRuns.at(-1)?.conclusion).toBe("success");
    const outputs = expectAllInert(world, mark, [reason]);
    expect(shown(outputs)).toContain("## ✅ approved");
    expect(shown(outputs)).toContain(IMG);
  });

  it("shows a hostile principal, account name and permission set name as inert code from approval to revoke", async () => {
    // Names an Identity Center and an organisation really hold: a user name is any 1-128 characters,
    // an account name up to 50, a permission set name letters, digits and +=,.@_-.
    const principal = `@acme/everyone${IMG.replace(" ", "/")}${LINK}&#x40;acme`;
    const account = "<img src=//evil.example/x> @acme/everyone";
    const permissionSet = "@everyone";
    world.aws.ic.addUser(IDENTITY_STORE_ID, { userName: principal });
    world.aws.ic.addAccount({ id: "444444444444", name: account });
    world.aws.ic.addPermissionSet(INSTANCE_ARN, { name: permissionSet });
    const policy = ANY_SET.replace("  alice: alice@example.com\n", `  alice: ${yamlString(principal)}\n`);
    await world.withGovernance({ policy }, async () => {
      const mark = world.github.calls.length;
      const request = `account: ${yamlString(account)}\npermission_set: ${yamlString(permissionSet)}\nduration: 2h\nreason: ${yamlString(`On call ${MENTIONS} ${BIDI}`)}\n`;
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: request } }] });
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      world.review(number, "dave");
      await mergeOnly(world, number);
      expect(world.comment(number)).toContain("access approved");
      await world.settle();
      expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
      // The revoke comment is replaced by the grants comment once the worker acts: read it first.
      world.access.conversation.comment(number, "alice", "/jitsudo revoke");
      expect(await world.harness.deliverLatest("issue_comment.created")).toBe(200);
      expect(world.comment(number)).toContain("access revoked early");
      await world.settle();
      expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["revoked"]);

      const outputs = expectAllInert(world, mark, [principal, account]);
      const bodies = outputs.filter((output) => output.where.includes("/issues/")).map((output) => output.text);
      // The check-time comment, the verdict, the active grant, the revoke, the revoked grant.
      for (const heading of [
        "access request :white_check_mark: valid",
        "access approved :white_check_mark:",
        "access active :white_check_mark:",
        "access revoked early",
        "access ended",
      ]) {
        const body = bodies.find((candidate) => candidate.includes(heading));
        expect(body, heading).toBeDefined();
        expect(body).toContain(principal);
        expect(body).toContain(account);
      }
    });
  });

  it("shows a failed grant's reason, which repeats a hostile account name, as text", async () => {
    const mark = world.github.calls.length;
    // An account name is up to 50 printable characters: room for a mention, a link and a tag.
    const account = "@acme/everyone [a](//evil.example) <img src=//x>";
    const number = world.openPull({
      commits: [{ files: { [world.newPath()]: READ_ONLY.replace('"123456789012"', yamlString(account)) } }],
    });
    world.review(number, "dave");
    await world.merge(number, "merge");
    const [grant] = await world.grants(number);
    expect([grant?.status, grant?.last_error]).toEqual([
      "failed",
      `the organisation has no account named "${account}"; write its exact name or its 12-digit id`,
    ]);
    expect(world.comment(number)).toContain("**failed**");
    const outputs = expectAllInert(world, mark, [account]);
    expect(shown(outputs)).toContain(`no account named "${account}"`);
  });

  it("shows the hostile values of an invalid tenant config on the default branch as text", async () => {
    const policy = [
      POLICY.replace(
        "  bob: bob@example.com\n",
        `  bob: bob@example.com\n  carol: ${yamlString(FENCE_BREAK)}\n  erin: ${yamlString(LONG)}\n  paula: ${yamlString(`${MENTIONS} ${ENTITIES}`)}\n`,
      ).replace(`  role_arn: ${TENANT_ROLE}\n`, `  role_arn: ${yamlString(`${LINK} ${BIDI}`)}\n`),
      `${yamlString(`## ✅ approved\n${IMG}`)}: 1`,
      `${yamlString(`${LINK} ${MENTIONS}`)}: 1`,
      "",
    ].join("\n");
    await world.withGovernance({ policy }, async () => {
      const mark = world.github.calls.length;
      const number = world.openPull();
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      expect(world.comment(number)).toContain("Problems in the base branch's policy");
      world.review(number, "dave");
      await world.merge(number, "merge");
      expect(await world.grants(number)).toEqual([]);
      const outputs = expectAllInert(world, mark, [FENCE_BREAK, `## ✅ approved\n${IMG}`, LONG]);
      const all = shown(outputs);
      for (const fragment of [
        "## ✅ approved",
        IMG,
        "@acme/everyone",
        "&#x40;acme/everyone",
        "[link](https://evil.example)",
        "\\u202e",
        "QQQQQQQQQQ",
      ])
        expect(all).toContain(fragment);
    });
  });

  it("answers an unknown command with the hostile command shown as inert code", async () => {
    const number = world.openPull();
    const mark = world.github.calls.length;
    const command = `/jitsudo ${BIDI} ${IMG} ${MENTIONS} ${LINK} ${ENTITIES}\n## ✅ approved`;
    await world.command(number, "mallory", command);
    const outputs = expectAllInert(world, mark, [command]);
    const reply = outputs.find((output) => output.text.includes("jitsudo does not know"));
    expect(reply?.text.startsWith("@mallory jitsudo does not know")).toBe(true);
    expect(readable(reply!.text)).toContain(IMG);
  });

  it("keeps the application logs one JSON record a line, without the values' control characters or their full length", async () => {
    const request = `account: "123456789012"\npermission_set: ${yamlString(`${FENCE_BREAK}${BIDI}`)}\nduration: 2h\nreason: "Investigate the latency alarms"\nprincipal: ${yamlString("Q".repeat(6_000))}\n${yamlString(`${BIDI}\n## ✅ approved`)}: 1\n`;
    const number = world.openPull({ commits: [{ files: { [world.newPath()]: request } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    world.review(number, "dave");
    await world.merge(number, "merge");
    const logs = world.harness.logs.join("");
    const records = logs.split("\n").filter((line) => line !== "");
    for (const record of records) expect(() => JSON.parse(record), record).not.toThrow();
    const judged = records
      .map((record) => JSON.parse(record) as { msg?: string; pr?: number; reasons?: string[] })
      .find((record) => record.msg === "merge judged" && record.pr === number);
    expect(judged?.reasons?.some((reason) => reason.includes("## ✅ approved"))).toBe(true);
    assertInert(logs, { format: "plain", values: [FENCE_BREAK], where: "the application logs" });
  });
});

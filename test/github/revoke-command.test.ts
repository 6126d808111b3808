import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCommand } from "../../src/github/revoke-command.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { BOT_LOGIN } from "../support/fake-github.js";
import { seed, type SeededMerge } from "../support/merge-world.js";

describe("parseCommand", () => {
  it.each([
    ["/jitsudo revoke", { kind: "revoke" }],
    ["  /jitsudo revoke  \nthanks!", { kind: "revoke" }],
    ["/jitsudo", { kind: "unknown", text: "/jitsudo" }],
    ["/jitsudo extend 2h", { kind: "unknown", text: "/jitsudo extend 2h" }],
    ["please /jitsudo revoke", { kind: "none" }],
    ["/jitsudoo revoke", { kind: "none" }],
    ["/Jitsudo revoke", { kind: "revoke" }],
    ["/JITSUDO REVOKE", { kind: "revoke" }],
    ["/jitsudo Revoke", { kind: "revoke" }],
  ])("%j", (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });
});

describe("/jitsudo revoke", () => {
  let db: Knex;
  let harness: Harness;
  let world: SeededMerge;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    world = seed(harness.github);
    await harness.deliver("pull_request", world.closed);
  });
  afterEach(async () => {
    await harness.stop();
  });

  const statuses = async () => (await db("grants").pluck("status")) as string[];
  const conversation = () => world.repo.conversation;
  /** `login` comments on the merged pull request and GitHub delivers it; resolves with the comment's id. */
  const comment = async (login: string, body: string) => {
    const { id } = conversation().comment(world.number, login, body);
    expect(await harness.deliverLatest("issue_comment.created")).toBe(200);
    return id;
  };
  const reactions = (id: number) => conversation().reactionsOn(id);
  const botComments = () =>
    conversation()
      .commentsOn(world.number)
      .filter((entry) => entry.user.login === BOT_LOGIN);

  it("lets the requester end a grant that has not started: revoked at once", async () => {
    const id = await comment("alice", "/jitsudo revoke");
    expect(await statuses()).toEqual(["revoked"]);
    expect(reactions(id)).toEqual(["eyes", "+1"]);
    const sticky = botComments();
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain("### jitsudo: access revoked early");
    expect(sticky[0]!.body).toContain("| Status | revoked (it had not started) |");
    const events = await db("grant_events").where({ type: "revoke_requested" });
    expect(events.map((event) => [event.actor, event.from_status, event.to_status, event.reason])).toEqual([
      ["alice", "approved", "revoked", "/jitsudo revoke by @alice"],
    ]);
  });

  it("lets a code owner end an active grant: revoking, for the revoke job to carry out", async () => {
    await db("grants").update({ status: "active" });
    const id = await comment("bob", "/jitsudo revoke");
    expect(await statuses()).toEqual(["revoking"]);
    expect(reactions(id)).toEqual(["eyes", "+1"]);
  });

  it("counts a code-owner team only through an active membership", async () => {
    harness.github.setTeamMembership("acme", "platform", "dave", "pending");
    harness.github.setTeamMembership("acme", "platform", "erin", "active");
    const dave = await comment("dave", "/jitsudo revoke");
    expect(await statuses()).toEqual(["approved"]);
    const erin = await comment("erin", "/jitsudo revoke");
    expect(await statuses()).toEqual(["revoked"]);
    expect([reactions(dave), reactions(erin)]).toEqual([
      ["eyes", "-1"],
      ["eyes", "+1"],
    ]);
  });

  it("refuses anyone else, and ignores bots and unknown commands", async () => {
    const mallory = await comment("mallory", "/jitsudo revoke");
    // A comment by the app itself (type Bot), quoting the command.
    const bot = await comment(BOT_LOGIN, "/jitsudo revoke");
    const alice = await comment("alice", "/jitsudo extend 8h");
    expect(await statuses()).toEqual(["approved"]);
    expect([reactions(mallory), reactions(bot), reactions(alice)]).toEqual([["eyes", "-1"], undefined, ["eyes", "confused"]]);
    expect(await db("grant_events").where({ type: "revoke_requested" })).toEqual([]);
    // The unknown command gets a short answer; the refused and the bot's get none.
    expect(
      botComments()
        .filter((reply) => reply.id !== bot)
        .slice(1)
        .map((reply) => reply.body),
    ).toEqual([
      "@alice jitsudo does not know `/jitsudo extend 8h`. Commands: `/jitsudo revoke` ends this pull request's access early (the requester or a code owner of the request file); `/jitsudo ack` records a code owner's review of break-glass access granted by this pull request.",
    ]);
  });

  it("takes a command however it is capitalised: /Jitsudo revoke ends the grant", async () => {
    const id = await comment("alice", "/Jitsudo Revoke");
    expect(await statuses()).toEqual(["revoked"]);
    expect(reactions(id)).toEqual(["eyes", "+1"]);
  });

  it("answers unknown commands with a reaction every time but a help reply at most once an hour per pull request", async () => {
    const ids: number[] = [];
    for (let index = 0; index < 5; index++) ids.push(await comment(index % 2 ? "mallory" : "alice", `/jitsudo please ${index}`));
    expect(ids.map(reactions)).toEqual(ids.map(() => ["eyes", "confused"]));
    const replies = () => botComments().filter((reply) => reply.body.includes("jitsudo does not know"));
    expect(replies()).toHaveLength(1);
    // An hour later the next unknown command is answered again.
    await db("command_replies").update({ replied_at: new Date(Date.parse("2026-11-25T12:00:00Z") - 61 * 60_000) });
    await comment("alice", "/jitsudo help");
    expect(replies()).toHaveLength(2);
  });
});

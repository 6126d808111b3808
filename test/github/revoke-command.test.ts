import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseCommand } from "../../src/github/revoke-command.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { scenario, seed } from "../support/merge-world.js";
import { issueCommentCreated, pullRequestMergedEvent } from "../support/payloads.js";

describe("parseCommand", () => {
  it.each([
    ["/jitsudo revoke", { kind: "revoke" }],
    ["  /jitsudo revoke  \nthanks!", { kind: "revoke" }],
    ["/jitsudo", { kind: "unknown", text: "/jitsudo" }],
    ["/jitsudo extend 2h", { kind: "unknown", text: "/jitsudo extend 2h" }],
    ["please /jitsudo revoke", { kind: "none" }],
    ["/jitsudoo revoke", { kind: "none" }],
  ])("%j", (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });
});

describe("/jitsudo revoke", () => {
  let db: Knex;
  let harness: Harness;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    seed(harness.github);
    await harness.deliver("pull_request", pullRequestMergedEvent(scenario));
  });
  afterEach(async () => {
    await harness.stop();
  });

  const statuses = async () => (await db("grants").pluck("status")) as string[];
  const comment = (login: string, body: string, commentId = 500, userType?: "User" | "Bot") =>
    harness.deliver("issue_comment", issueCommentCreated({ number: 7, commentId, login, body, ...(userType ? { userType } : {}) }));

  it("lets the requester end a grant that has not started: revoked at once", async () => {
    expect(await comment("alice", "/jitsudo revoke")).toBe(200);
    expect(await statuses()).toEqual(["revoked"]);
    expect(harness.github.reactions.get(500)).toEqual(["+1"]);
    const sticky = harness.github.comments.get(7)!;
    expect(sticky).toHaveLength(1);
    expect(sticky[0]!.body).toContain("### jitsudo: access revoked early");
    expect(sticky[0]!.body).toContain("| Status | revoked (it had not started) |");
    const events = await db("grant_events").where({ type: "revoke_requested" });
    expect(events.map((event) => [event.actor, event.from_status, event.to_status, event.reason])).toEqual([["alice", "approved", "revoked", "/jitsudo revoke by @alice"]]);
  });

  it("lets a code owner end an active grant: revoking, for the revoke job to carry out", async () => {
    await db("grants").update({ status: "active" });
    await comment("bob", "/jitsudo revoke");
    expect(await statuses()).toEqual(["revoking"]);
    expect(harness.github.reactions.get(500)).toEqual(["+1"]);
  });

  it("counts a code-owner team only through an active membership", async () => {
    harness.github.teamMembers.set("acme/platform:dave", "pending");
    harness.github.teamMembers.set("acme/platform:erin", "active");
    await comment("dave", "/jitsudo revoke", 501);
    expect(await statuses()).toEqual(["approved"]);
    await comment("erin", "/jitsudo revoke", 502);
    expect(await statuses()).toEqual(["revoked"]);
    expect([harness.github.reactions.get(501), harness.github.reactions.get(502)]).toEqual([["-1"], ["+1"]]);
  });

  it("refuses anyone else, and ignores bots and unknown commands", async () => {
    await comment("mallory", "/jitsudo revoke", 501);
    await comment("jitsudo[bot]", "/jitsudo revoke", 502, "Bot");
    await comment("alice", "/jitsudo extend 8h", 503);
    expect(await statuses()).toEqual(["approved"]);
    expect([harness.github.reactions.get(501), harness.github.reactions.get(502), harness.github.reactions.get(503)]).toEqual([["-1"], undefined, ["confused"]]);
    expect(await db("grant_events").where({ type: "revoke_requested" })).toEqual([]);
    // The unknown command gets a short answer; the refused and the bot's get none.
    expect(harness.github.comments.get(7)!.slice(1).map((reply) => reply.body)).toEqual([
      "@alice jitsudo does not know `/jitsudo extend 8h`. Commands: `/jitsudo revoke` ends this pull request's access early (the requester or a code owner of the request file).",
    ]);
  });
});

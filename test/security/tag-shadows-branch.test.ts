/**
 * Security review 3 (unverified there, the local GitHub had no tags): jitsudo read CODEOWNERS "at
 * main" by the bare name. Git resolves a bare name as a tag before a branch (gitrevisions: refs/tags/
 * <name> comes before refs/heads/<name>), and anyone with write access can push a tag. mallory pushes
 * a tag `main` at a commit of her own whose CODEOWNERS makes her the owner of everything, then
 * `/jitsudo revoke`s alice's access as its "code owner". Now branches are read by their full ref.
 */
import { describe, expect, it } from "vitest";
import { useSecurityWorld } from "./support/security-world.js";

describe("a tag named like the default branch", () => {
  const world = useSecurityWorld();

  it("does not decide whose CODEOWNERS jitsudo reads at the default branch", async () => {
    const number = await world.grant();
    world.access.createBranch("mallory/owners", "main", "mallory");
    const forged = world.access.commit("mallory/owners", { files: { ".github/CODEOWNERS": "* @mallory\n" }, author: "mallory" });
    world.access.createTag("main", forged, "mallory");

    await world.command(number, "mallory", "/jitsudo revoke");
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
    const reactions = world.access.conversation.reactionsOn(world.access.conversation.commentsOn(number).at(-1)!.id);
    expect(reactions).toEqual(["eyes", "-1"]);
  });
});

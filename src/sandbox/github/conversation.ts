/**
 * A repository's conversation and checks: comments on pull requests (GitHub's issue comments),
 * reactions to them, and check runs. People comment through the model; the app comments, reacts
 * and reports checks through the REST API, as the bot.
 *
 * From GitHub's REST documentation: a check run's annotations are limited to "a maximum of 50 per
 * API request" and each update "adds" annotations to the run; creating a reaction the user already
 * gave answers 200 with the existing one instead of 201.
 */
import {
  ANNOTATIONS_PER_REQUEST,
  REACTION_CONTENTS,
  type CheckAnnotationInput,
  type CheckRun,
  type IssueComment,
  type Reaction,
  type ReactionContent,
} from "./issues.js";
import type { ObjectStore } from "./git-objects.js";
import { updatePull, type PullRequest } from "./pulls.js";
import type { World } from "./world.js";

/** What a conversation announces, about its repository `Repo`. */
export type ConversationEvent<Repo> =
  | { kind: "issue_comment"; action: "created"; repo: Repo; pull: PullRequest; comment: IssueComment }
  | { kind: "check_run"; action: "rerequested"; repo: Repo; run: CheckRun; sender: string };

/** What a conversation reads of its repository: the pull requests commented on, the commits checked. */
export interface ConversationRepository {
  pull(number: number): PullRequest;
  readonly objects: Pick<ObjectStore, "commit">;
}

export class ConversationError extends Error {
  constructor(
    readonly status: 404 | 422,
    message: string,
  ) {
    super(message);
  }
}

export interface AppIdentity {
  id: number;
  slug: string;
  name: string;
  owner: string;
}

export class Conversation<Repo extends ConversationRepository> {
  private readonly runs: CheckRun[] = [];
  private readonly comments = new Map<number, IssueComment[]>();
  private readonly reactions = new Map<number, Reaction[]>();

  constructor(
    private readonly world: World<ConversationEvent<Repo>>,
    private readonly repo: Repo,
  ) {}

  /** A comment by `login` on pull request `number` (a `[bot]` login comments as a Bot). Sends `issue_comment.created`. */
  comment(number: number, login: string, body: string): IssueComment {
    checkCommentBody(body);
    const pull = this.repo.pull(number);
    const at = this.world.clock.tick();
    const account = this.world.accounts.get(login, login.endsWith("[bot]") ? "Bot" : "User");
    const comment: IssueComment = {
      id: this.world.nextId(),
      issueNumber: number,
      user: { login: account.login, type: account.type === "Bot" ? "Bot" : "User" },
      body,
      createdAt: at,
      updatedAt: at,
    };
    this.comments.set(number, [...this.commentsOn(number), comment]);
    updatePull(pull, { updatedAt: at });
    this.world.emit({ kind: "issue_comment", action: "created", repo: this.repo, pull, comment });
    return comment;
  }

  /** The comments on a pull request, oldest first. */
  commentsOn(number: number): readonly IssueComment[] {
    return this.comments.get(number) ?? [];
  }

  /** Every check run on the repository, oldest first. */
  get checkRuns(): readonly CheckRun[] {
    return this.runs;
  }

  findComment(id: number): IssueComment | undefined {
    for (const list of this.comments.values()) for (const comment of list) if (comment.id === id) return comment;
    return undefined;
  }

  /** An edit by someone allowed to (the author, or the app, whose issues:write permission covers any comment). */
  editComment(id: number, body: string): IssueComment {
    const comment = this.findComment(id);
    if (!comment) throw new ConversationError(404, "Not Found");
    checkCommentBody(body);
    Object.assign(comment, { body, updatedAt: this.world.clock.tick() });
    return comment;
  }

  /** A comment removed (by its author, or an admin tidying the PR). */
  deleteComment(id: number): void {
    for (const [number, list] of this.comments) {
      if (list.some((comment) => comment.id === id))
        this.comments.set(
          number,
          list.filter((comment) => comment.id !== id),
        );
    }
  }

  react(commentId: number, login: string, content: string): { reaction: Reaction; created: boolean } {
    if (!this.findComment(commentId)) throw new ConversationError(404, "Not Found");
    if (!(REACTION_CONTENTS as readonly string[]).includes(content))
      throw new ConversationError(422, `content ${content} is not one of ${REACTION_CONTENTS.join(", ")}`);
    const given = this.reactions.get(commentId) ?? [];
    const existing = given.find((reaction) => reaction.login === login && reaction.content === content);
    if (existing) return { reaction: existing, created: false };
    const reaction: Reaction = { id: this.world.nextId(), login, content: content as ReactionContent, createdAt: this.world.clock.tick() };
    this.reactions.set(commentId, [...given, reaction]);
    return { reaction, created: true };
  }

  /** The reactions given to a comment, in order (e.g. ["+1"]); undefined when there are none. */
  reactionsOn(commentId: number): ReactionContent[] | undefined {
    return this.reactions.get(commentId)?.map((reaction) => reaction.content);
  }

  reactionsFor(commentId: number): Reaction[] {
    return this.reactions.get(commentId) ?? [];
  }

  /** A check run created by `app` (the API's create request body). */
  createCheckRun(app: AppIdentity, body: Record<string, unknown>): CheckRun {
    const annotations = annotationsOf(body);
    if (typeof body.name !== "string" || typeof body.head_sha !== "string")
      throw new ConversationError(422, "name and head_sha are required");
    if (!this.repo.objects.commit(body.head_sha)) throw new ConversationError(422, `No commit found for SHA: ${body.head_sha}`);
    const at = this.world.clock.tick();
    const status = typeof body.status === "string" ? body.status : body.conclusion ? "completed" : "queued";
    const run: CheckRun = {
      id: this.world.nextId(),
      app,
      name: body.name,
      headSha: body.head_sha,
      status,
      conclusion: typeof body.conclusion === "string" ? body.conclusion : null,
      externalId: typeof body.external_id === "string" ? body.external_id : null,
      startedAt: at,
      completedAt: status === "completed" ? at : null,
      output: outputOf(body),
      annotations: [...annotations],
      body,
      updates: [],
    };
    this.runs.push(run);
    return run;
  }

  updateCheckRun(id: number, app: AppIdentity, body: Record<string, unknown>): CheckRun {
    const run = this.runs.find((candidate) => candidate.id === id);
    if (!run || run.app.id !== app.id) throw new ConversationError(404, "Not Found");
    const annotations = annotationsOf(body);
    this.world.clock.tick();
    // Each update adds its annotations to the run's.
    Object.assign(run, { updates: [...run.updates, body], annotations: [...run.annotations, ...annotations] });
    if (body.output) Object.assign(run, { output: outputOf(body) });
    if (typeof body.conclusion === "string")
      Object.assign(run, { conclusion: body.conclusion, status: "completed", completedAt: this.world.clock.now() });
    return run;
  }

  /** Someone presses "Re-run" on a check run: GitHub sends `check_run.rerequested` to the app that owns it. */
  rerequestCheckRun(id: number, by: string): Record<string, unknown> {
    const run = this.runs.find((candidate) => candidate.id === id);
    if (!run) throw new ConversationError(404, `no check run ${id}`);
    this.world.clock.tick();
    return this.world.emit({ kind: "check_run", action: "rerequested", repo: this.repo, run, sender: by }).payload;
  }
}

function annotationsOf(body: Record<string, unknown>): CheckAnnotationInput[] {
  const annotations = (body.output as { annotations?: CheckAnnotationInput[] } | undefined)?.annotations ?? [];
  if (annotations.length > ANNOTATIONS_PER_REQUEST) {
    throw new ConversationError(
      422,
      `Only ${ANNOTATIONS_PER_REQUEST} annotations are allowed per request; this one has ${annotations.length}`,
    );
  }
  return annotations;
}

/** GitHub's limits: "body is too long (maximum is 65536 characters)" for comments; 65,535 for a check run's summary and text. */
export const COMMENT_BODY_LIMIT = 65_536;
export const CHECK_OUTPUT_LIMIT = 65_535;
const characters = (text: string) => [...text].length;

function checkCommentBody(body: string): void {
  if (characters(body) > COMMENT_BODY_LIMIT)
    throw new ConversationError(422, `Validation Failed: body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)`);
}

function outputOf(body: Record<string, unknown>): CheckRun["output"] {
  const output = (body.output ?? {}) as { title?: string; summary?: string; text?: string };
  for (const field of ["summary", "text"] as const) {
    const value = output[field];
    if (typeof value === "string" && characters(value) > CHECK_OUTPUT_LIMIT)
      throw new ConversationError(422, `Validation Failed: output.${field} is too long (maximum is ${CHECK_OUTPUT_LIMIT} characters)`);
  }
  return { title: output.title ?? null, summary: output.summary ?? null, text: output.text ?? null };
}

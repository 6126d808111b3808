/**
 * Conversation and checks on the local GitHub: issue comments (a pull request is an issue for
 * comments), reactions on them, and check runs with their annotations.
 */
export interface IssueComment {
  readonly id: number;
  readonly issueNumber: number;
  /** The login as GitHub shows it; the app's comments are written by `<slug>[bot]`, type Bot. */
  readonly user: { readonly login: string; readonly type: "User" | "Bot" };
  readonly body: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Reaction {
  readonly id: number;
  readonly login: string;
  readonly content: ReactionContent;
  readonly createdAt: Date;
}

export const REACTION_CONTENTS = ["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"] as const;
export type ReactionContent = (typeof REACTION_CONTENTS)[number];

export interface CheckAnnotationInput {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: string;
  message: string;
  [key: string]: unknown;
}

export interface CheckRun {
  readonly id: number;
  readonly app: { readonly id: number; readonly slug: string; readonly name: string; readonly owner: string };
  readonly name: string;
  readonly headSha: string;
  readonly status: string;
  readonly conclusion: string | null;
  readonly externalId: string | null;
  readonly startedAt: Date;
  readonly completedAt: Date | null;
  readonly output: { readonly title: string | null; readonly summary: string | null; readonly text: string | null };
  /** Every annotation so far: each update adds its own (GitHub's check runs API). */
  readonly annotations: readonly CheckAnnotationInput[];
  /** The create request's body, as the app sent it. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Each update request's body, in order. */
  readonly updates: readonly Readonly<Record<string, unknown>>[];
}

/** "The Checks API limits the number of annotations to a maximum of 50 per API request." */
export const ANNOTATIONS_PER_REQUEST = 50;

/**
 * Conversation and checks on the local GitHub: issue comments (a pull request is an issue for
 * comments), reactions on them, and check runs with their annotations.
 */
export interface IssueComment {
  id: number;
  issueNumber: number;
  /** The login as GitHub shows it; the app's comments are written by `<slug>[bot]`, type Bot. */
  user: { login: string; type: "User" | "Bot" };
  body: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface Reaction {
  id: number;
  login: string;
  content: ReactionContent;
  createdAt: Date;
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
  id: number;
  app: { id: number; slug: string; name: string; owner: string };
  name: string;
  headSha: string;
  status: string;
  conclusion: string | null;
  externalId: string | null;
  startedAt: Date;
  completedAt: Date | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Every annotation so far: "each update appends" (GitHub's check runs API). */
  annotations: CheckAnnotationInput[];
  /** The create request's body, as the app sent it. */
  body: Record<string, unknown>;
  /** Each update request's body, in order. */
  updates: Record<string, unknown>[];
}

/** "The Checks API limits the number of annotations to a maximum of 50 per API request." */
export const ANNOTATIONS_PER_REQUEST = 50;

/**
 * One request file judged end to end: parsed, checked against the schema, then against the policy.
 * Shared by `jitsudo validate`, the pull-request check and (later) the merge verdict, so all three
 * say exactly the same thing about the same bytes.
 */
import type { TenantConfig } from "../config/tenant.js";
import { parseRequestFile, type ParsedRequest } from "./access-request.js";
import { evaluatePolicy, type NameDirectory, type PolicyDecision } from "./policy.js";
import { quote } from "../parsing/printable.js";
import { hasErrors, type Problem } from "../parsing/problem.js";

export interface RequestReview {
  file: string;
  parsed?: ParsedRequest;
  decision?: PolicyDecision;
  problems: Problem[];
  valid: boolean;
}

export interface ReviewContext {
  /** The tenant config; undefined = validate the file on its own (schema only). */
  config?: TenantConfig;
  requester?: string;
  directory?: NameDirectory;
  now: Date;
}

export function validateRequest(file: string, bytes: Uint8Array, context: ReviewContext): RequestReview {
  const result = parseRequestFile(file, bytes);
  if (!result.ok) return { file, problems: result.problems, valid: false };
  const { parsed } = result;
  const problems: Problem[] = [];

  if (parsed.startsAt && parsed.startsAt.getTime() < context.now.getTime()) {
    problems.push({
      file,
      ...parsed.source.spanOf(["starts_at"]),
      severity: "warning",
      message: `starts_at ${quote(parsed.request.starts_at)} is in the past; access will start when the merge is processed`,
    });
  }
  if (!context.config) return { file, parsed, problems, valid: true };

  const decision = evaluatePolicy({
    parsed,
    config: context.config,
    ...(context.requester !== undefined ? { requester: context.requester } : {}),
    ...(context.directory ? { directory: context.directory } : {}),
    now: context.now,
  });
  problems.push(...decision.problems);
  return { file, parsed, decision, problems, valid: decision.allowed && !hasErrors(problems) };
}

/** When the access would start and end if merged at `mergedAt`. */
export function accessWindow(parsed: ParsedRequest, mergedAt: Date): { startsAt: Date; expiresAt: Date } {
  const startsAt = parsed.startsAt && parsed.startsAt > mergedAt ? parsed.startsAt : mergedAt;
  return { startsAt, expiresAt: new Date(startsAt.getTime() + parsed.durationMs) };
}

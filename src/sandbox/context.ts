/**
 * What an operation handler gets: the state, the time of the call, who is calling, and the
 * settings that shape answers. Handlers are plain functions of these and the checked input, which
 * keeps each service's operations readable on their own and free of HTTP.
 */
import type { InputReader } from "./input.js";
import type { PagingRules } from "./paging.js";
import type { SandboxState, Session } from "./state.js";

export type Service = "sso-admin" | "identitystore" | "organizations" | "sts";

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** Members set to undefined are left out of the response, as absent members are in AWS answers. */
export type JsonObject = { [member: string]: JsonValue | undefined };

/** A call as it reaches the model, already decoded from its wire protocol. */
export interface ServiceRequest {
  service: Service;
  operation: string;
  input: Readonly<Record<string, unknown>>;
  accessKeyId?: string;
  sessionToken?: string;
}

export interface Caller {
  /** From the request signature; not verified, as signatures are not. */
  accessKeyId?: string;
  /** Set when the access key is one this simulator's AssumeRole issued. */
  session?: Session;
}

export interface Settings extends AwsBehaviour {
  provisioningDelayMs: number;
  deletionDelayMs: number;
  maxCreatesInFlight: number;
  paging: PagingRules;
}

/**
 * How AWS's undocumented and eventually consistent corners behave (../shared/identity-center.md),
 * each configurable because AWS documents none of them; the defaults are the kindest reading.
 */
export interface AwsBehaviour {
  /** A create or delete of an assignment this soon after the last write on it completed answers ConflictException ("a previous write has not propagated"). */
  conflictAfterWriteMs: number;
  /** What a create over the cap on creations in progress answers. */
  inFlightCapError: "ThrottlingException" | "ConflictException";
  /** Deleting an assignment that does not exist: a synchronous ResourceNotFoundException, or an operation that ends SUCCEEDED or FAILED. */
  deleteMissing: "not-found" | "succeeded" | "failed";
  /** How far the assignment lists lag behind completed operations. */
  listLagMs: number;
  /** Extra time the first assignment of a permission set in an account takes: it provisions the set there (an IAM role). */
  firstAssignmentDelayMs: number;
  /** Permission sets one account can hold (each is an IAM role there; IAM's role quota): provisioning one more fails. */
  rolesPerAccount: number;
  /** How long an operation's status is kept; an older request id is unknown to Describe and the lists. */
  statusRetentionMs: number;
}

export const DEFAULT_BEHAVIOUR: AwsBehaviour = {
  conflictAfterWriteMs: 0,
  inFlightCapError: "ThrottlingException",
  deleteMissing: "not-found",
  listLagMs: 0,
  firstAssignmentDelayMs: 0,
  rolesPerAccount: 1000,
  statusRetentionMs: Number.POSITIVE_INFINITY,
};

export interface OperationContext {
  readonly state: SandboxState;
  /** The clock's reading for this call; one reading per call keeps a call's decisions consistent. */
  readonly now: number;
  readonly settings: Readonly<Settings>;
  readonly caller: Caller;
  /** Instances the caller may see (its role's trusted instances), or undefined for all of them. */
  readonly visibleInstances: ReadonlySet<string> | undefined;
  /** A request id for an asynchronous operation, from the seeded generator so runs repeat. */
  newRequestId(): string;
  /** Whether fault injection makes an accepted creation or deletion end FAILED. */
  drawFailure(): boolean;
}

export type Handler = (ctx: OperationContext, input: InputReader) => JsonObject;

/** Epoch seconds with milliseconds, the JSON protocols' timestamp format. */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

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

export interface Caller {
  /** From the request signature; not verified, as signatures are not. */
  accessKeyId?: string;
  /** Set when the access key is one this simulator's AssumeRole issued. */
  session?: Session;
}

export interface Settings {
  provisioningDelayMs: number;
  deletionDelayMs: number;
  maxCreatesInFlight: number;
  paging: PagingRules;
}

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

/**
 * What an AWS error means for the caller. The SDK already retried throttles and 5xx with its
 * standard strategy (exponential backoff, jitter) before an error reaches us; what is left is
 * decided here, once, so every job treats the same error the same way.
 */
export type AwsErrorKind =
  /** Retry later: throttled past the SDK's attempts, a 5xx, a timeout, a dropped connection. */
  | "transient"
  /** Another operation on the same assignment is in flight: retry after it finishes. */
  | "conflict"
  | "not-found"
  /** The role or its trust policy does not allow it: a deployment problem, not a passing one. */
  | "access-denied"
  /** Malformed input or a quota: retrying the same call cannot help. */
  | "invalid";

interface SdkError {
  name?: string;
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
}

const TRANSIENT = new Set([
  "ThrottlingException",
  "TooManyRequestsException",
  "Throttling",
  "RequestLimitExceeded",
  "InternalServerException",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceException",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_SOCKET"]);

export function classifyAwsError(error: unknown): AwsErrorKind {
  const sdk = (error ?? {}) as SdkError;
  const name = sdk.name ?? "";
  if (name === "ConflictException") return "conflict";
  if (name === "ResourceNotFoundException" || name === "AccountNotFoundException") return "not-found";
  if (name === "AccessDeniedException" || name === "AccessDenied" || name === "UnrecognizedClientException" || name === "ExpiredTokenException") {
    return "access-denied";
  }
  if (TRANSIENT.has(name) || NETWORK.has(sdk.code ?? "") || sdk.$fault === "server" || (sdk.$metadata?.httpStatusCode ?? 0) >= 500) return "transient";
  if (sdk.$metadata?.httpStatusCode === undefined && !sdk.$fault) return "transient"; // never reached AWS
  return "invalid";
}

/** A short, log- and comment-safe description: the AWS error name and message, never credentials. */
export function describeAwsError(error: unknown): string {
  const sdk = (error ?? {}) as SdkError & { message?: string };
  const message = (sdk.message ?? String(error)).replace(/\s+/g, " ").slice(0, 300);
  return sdk.name && !message.startsWith(sdk.name) ? `${sdk.name}: ${message}` : message;
}

/** Exponential backoff with jitter: attempt n waits between half and all of min(max, base·2ⁿ), so retries spread out. */
export function backoffMs(attempt: number, { baseMs = 1000, maxMs = 5 * 60_000, random = Math.random } = {}): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}

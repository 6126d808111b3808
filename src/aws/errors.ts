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
  $metadata?: { httpStatusCode?: number; attempts?: number };
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
  if (
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnrecognizedClientException" ||
    name === "ExpiredTokenException"
  ) {
    return "access-denied";
  }
  if (TRANSIENT.has(name) || NETWORK.has(sdk.code ?? "") || sdk.$fault === "server" || (sdk.$metadata?.httpStatusCode ?? 0) >= 500)
    return "transient";
  if (sdk.$metadata?.httpStatusCode === undefined && !sdk.$fault) return "transient"; // never reached AWS
  return "invalid";
}

/**
 * AWS answered the call's only attempt with a client error (4xx: refused, invalid, conflicting,
 * throttled): the request was not acted on. A 5xx or no answer leaves it unknown whether AWS
 * acted, and so does a 4xx after a retry: the SDK's first attempt may have timed out after AWS
 * started the create, and the retry then meets a ConflictException about that very create.
 */
export function refusedByAws(error: unknown): boolean {
  const metadata = (error as SdkError | undefined)?.$metadata;
  const status = metadata?.httpStatusCode ?? 0;
  return status >= 400 && status < 500 && metadata?.attempts === 1;
}

/** ARNs in AWS's messages name jitsudo's own runtime identity ("User: arn:aws:sts::…:assumed-role/…"). */
const ARN = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d{0,12}:[^\s,;)"']+/gi;

/**
 * What an AWS error says to a requester: what failed and what to ask the platform team, in the
 * grant's `last_error` and on its pull request. Never ARNs or account ids of jitsudo's own
 * identity, which AWS puts into access-denied messages: those go to the logs (`rawAwsError`).
 */
export function describeAwsError(error: unknown): string {
  const sdk = (error ?? {}) as SdkError & { message?: string };
  const name = sdk.name ?? "Error";
  if (classifyAwsError(error) === "access-denied") {
    return `${name}: AWS refused jitsudo this call; the tenant role's trust policy or permissions need a look (ask the platform team; the details are in jitsudo's logs)`;
  }
  const message = (sdk.message ?? String(error)).replace(/\s+/g, " ").replace(ARN, "<an AWS resource>").slice(0, 300);
  return message.startsWith(name) ? message : `${name}: ${message}`;
}

/**
 * The whole AWS error for jitsudo's own logs, in the shape pino's error serializer gives every
 * other `err` (type, message, stack), plus AWS's request id. The SDK's own error object is not
 * logged as it is: its `$response` holds the raw HTTP exchange.
 */
export function rawAwsError(error: unknown): { type?: string; name?: string; message?: string; stack?: string; requestId?: string } {
  const sdk = (error ?? {}) as SdkError & { message?: string; stack?: string; $metadata?: { requestId?: string } };
  return {
    ...(sdk.name ? { type: sdk.name, name: sdk.name } : {}),
    ...(sdk.message ? { message: sdk.message } : {}),
    ...(typeof sdk.stack === "string" ? { stack: sdk.stack } : {}),
    ...(sdk.$metadata?.requestId ? { requestId: sdk.$metadata.requestId } : {}),
  };
}

/** Exponential backoff with jitter: attempt n waits between half and all of min(max, base·2ⁿ), so retries spread out. */
export function backoffMs(attempt: number, { baseMs = 1000, maxMs = 5 * 60_000, random = Math.random } = {}): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(cap / 2 + random() * (cap / 2));
}

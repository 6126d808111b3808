/**
 * The errors the simulator answers with. Codes and HTTP statuses are the ones AWS uses, because
 * the SDK picks the exception class from the code and the retry decision from code and status:
 * a wrong code would make jitsudo's error handling look right here and fail against AWS.
 */

/** Every error code the simulator can send, with its HTTP status. */
export const ERROR_STATUS = {
  // awsJson services (sso-admin, identitystore)
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  // AWS answers throttling on its JSON protocols with 400; the SDK recognises it by code, not status.
  ThrottlingException: 400,
  ExpiredTokenException: 400,
  // sso-admin answers 400 for these too (the API model's httpError is 400 for each): code, not status, tells them apart.
  AccessDeniedException: 400,
  ResourceNotFoundException: 400,
  ConflictException: 400,
  ServiceQuotaExceededException: 400,
  InternalServerException: 500,
  // organizations
  InvalidInputException: 400,
  TooManyRequestsException: 400,
  AccountNotFoundException: 400,
  // sts (awsQuery)
  ValidationError: 400,
  InvalidAction: 400,
  MissingAction: 400,
  AccessDenied: 403,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The code a service uses for malformed input: each AWS service family named it differently. */
export type ValidationCode = "ValidationException" | "InvalidInputException" | "ValidationError";

export class AwsError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
    this.status = ERROR_STATUS[code];
  }

  /** awsQuery errors say whose fault it was; the SDK copies it into `$fault`. */
  get fault(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }
}

/**
 * The four services the simulator serves, with what differs between them: their operations, and
 * what they call a validation error, a refusal and a throttle.
 */
import type { Handler, Service } from "./context.js";
import type { ErrorCode } from "./errors.js";
import { IDENTITY_STORE_OPERATIONS } from "./identity-store.js";
import type { ReaderOptions } from "./input.js";
import { ORGANIZATIONS_OPERATIONS } from "./organizations.js";
import { SSO_ADMIN_OPERATIONS } from "./sso-admin.js";
import { STS_OPERATIONS } from "./sts.js";

export interface ServiceDefinition {
  /** A Map, not an object: an operation named `constructor` or `__proto__` must find nothing. */
  operations: ReadonlyMap<string, Handler>;
  reader: ReaderOptions;
  unknownOperation: ErrorCode;
  accessDenied: ErrorCode;
  throttled: ErrorCode;
  /** IAM action prefix, for access-denied messages. */
  actionPrefix: string;
}

export const SERVICES: Readonly<Record<Service, ServiceDefinition>> = {
  "sso-admin": {
    operations: SSO_ADMIN_OPERATIONS,
    reader: { invalid: "ValidationException" },
    unknownOperation: "UnknownOperationException",
    accessDenied: "AccessDeniedException",
    throttled: "ThrottlingException",
    actionPrefix: "sso",
  },
  identitystore: {
    operations: IDENTITY_STORE_OPERATIONS,
    reader: { invalid: "ValidationException" },
    unknownOperation: "UnknownOperationException",
    accessDenied: "AccessDeniedException",
    throttled: "ThrottlingException",
    actionPrefix: "identitystore",
  },
  organizations: {
    operations: ORGANIZATIONS_OPERATIONS,
    reader: { invalid: "InvalidInputException" },
    unknownOperation: "UnknownOperationException",
    accessDenied: "AccessDeniedException",
    throttled: "TooManyRequestsException",
    actionPrefix: "organizations",
  },
  sts: {
    operations: STS_OPERATIONS,
    reader: { invalid: "ValidationError", numbersAsText: true },
    unknownOperation: "InvalidAction",
    accessDenied: "AccessDenied",
    throttled: "ThrottlingException",
    actionPrefix: "sts",
  },
};

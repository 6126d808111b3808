/**
 * A local IAM Identity Center for tests, benchmarks and demos: the AWS operations jitsudo calls,
 * served on their real wire protocols to the unmodified AWS SDK clients.
 */
export { startLocalIdentityCenter, type LocalIdentityCenterServerOptions, type RunningLocalIdentityCenter } from "./server.js";
export {
  LocalIdentityCenter,
  type AssignmentOperationView,
  type CallRecord,
  type InstanceInfo,
  type LocalIdentityCenterOptions,
} from "./identity-center.js";
export type { Faults } from "./faults.js";
export type { Service, ServiceRequest, JsonObject } from "./context.js";
export type { AccountStatus, Assignment, OperationKind, OperationStatus, PrincipalType } from "./state.js";
export { AwsError, ERROR_STATUS, type ErrorCode } from "./errors.js";
export { MANAGEMENT_ACCOUNT_ID, ORGANIZATION_ID } from "./organizations.js";

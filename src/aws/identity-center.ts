/**
 * The small surface jitsudo needs from IAM Identity Center, for one instance under one role
 * session. The jobs talk to this interface only; `sdk-identity-center.ts` implements it with the
 * AWS SDK clients (against AWS, or the local Identity Center in `src/sandbox`).
 */

export type PrincipalType = "USER" | "GROUP";

/** One account assignment: who has which permission set in which account. */
export interface Assignment {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export type OperationKind = "create" | "delete";

/** The asynchronous status of a CreateAccountAssignment or DeleteAccountAssignment. */
export interface OperationStatus {
  requestId: string;
  status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  failureReason?: string;
  /** How long the status read waited for a rate-limit slot before it was sent: when AWS looked is that much later. */
  queuedMs?: number;
  /**
   * How long ago AWS's answer to a create or delete arrived, before the SDK parsed it: the operation
   * began at least that long before its caller heard of it. In a wave of ten, parsing the other
   * answers first made some operations look younger than they were, and their status was read early.
   */
  answeredMsAgo?: number;
}

export interface PermissionSet {
  arn: string;
  name: string;
  /**
   * SessionDuration as Identity Center answered it (ISO 8601, e.g. `PT8H`): how long a session
   * opened with this permission set lasts, also after its assignment is deleted. Unset when AWS
   * omitted it, which its API model allows (AWS documents PT1H as the default).
   */
  sessionDuration?: string;
}

export interface IdentityCenter {
  readonly instanceArn: string;
  /**
   * Who is asking, as far as answers can differ: the instance, its identity store and region, and
   * the role session's identity (role and ExternalId, or jitsudo's own). Caches of answers are
   * kept per view, so no tenant's session (or a config's choice of identity store) decides what
   * another tenant's lookups see.
   */
  readonly view: string;
  /**
   * Obtains the credentials its calls will be signed with (assumes the role session) now, so that
   * the next call does not wait for them. Calls need not wait for this: each obtains them anyway.
   */
  prepareSession(): Promise<void>;
  /** `onSent`: told when the call leaves for AWS, after its wait for the rate limit (again for each retry). */
  createAssignment(assignment: Assignment, options?: { onSent?: () => void }): Promise<OperationStatus>;
  /** "not-found" when there is nothing to delete: the assignment is already gone. */
  deleteAssignment(assignment: Assignment): Promise<OperationStatus | "not-found">;
  describeOperation(kind: OperationKind, requestId: string): Promise<OperationStatus>;
  /**
   * Request ids of this instance's operations with a status (every tool's, not only jitsudo's):
   * one paged call answers for many. `maxPages` bounds the reading; `complete` says whether it
   * read them all.
   */
  operationsWithStatus(
    kind: OperationKind,
    status: "IN_PROGRESS" | "FAILED",
    maxPages?: number,
  ): Promise<{ ids: Set<string>; complete: boolean }>;

  /** The Identity Store user id of a user name (or e-mail address), or undefined when there is none. */
  userId(userName: string): Promise<string | undefined>;
  /** Every account of the organisation: id, name and status. */
  accounts(): Promise<{ id: string; name: string; status: string }[]>;
  /** The organisation's management account, or undefined when the session may not ask. */
  managementAccountId(): Promise<string | undefined>;
  permissionSets(): Promise<PermissionSet[]>;
  /**
   * One permission set of this instance, with its session duration, read through this session
   * (never cached here: `Directory.sessionDuration` caches it): undefined when the instance has
   * none with that ARN.
   */
  describePermissionSet(permissionSetArn: string): Promise<PermissionSet | undefined>;

  /** Accounts the permission set is provisioned to: where assignments of it can exist at all. */
  accountsWithPermissionSet(permissionSetArn: string): Promise<string[]>;
  assignments(accountId: string, permissionSetArn: string): Promise<Assignment[]>;
  /** Every assignment of a user, in any account and permission set. */
  assignmentsOfPrincipal(principalId: string, principalType?: PrincipalType): Promise<Assignment[]>;
  /** Whether the assignment exists (one list of the principal's assignments in that account). */
  hasAssignment(assignment: Assignment): Promise<boolean>;
}

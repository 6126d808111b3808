/**
 * What the simulated AWS holds: Identity Center instances with their permission sets and identity
 * stores, the organisation's accounts, IAM roles and the STS sessions issued for them, account
 * assignments, and the asynchronous operations that create and delete assignments.
 *
 * Asynchronous operations carry the time they settle at and are settled lazily, whenever anything
 * reads or changes the state (`settle(now)`), so no timers run and an injected clock makes every
 * transition exact.
 */
import { AwsError } from "./errors.js";
import { sortByKey } from "./paging.js";

export type PrincipalType = "USER" | "GROUP";
export type AccountStatus = "ACTIVE" | "SUSPENDED";
export type OperationStatus = "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
export type OperationKind = "create" | "delete";

export const PRINCIPAL_TYPES: readonly PrincipalType[] = ["USER", "GROUP"];
export const OPERATION_STATUSES: readonly OperationStatus[] = ["IN_PROGRESS", "FAILED", "SUCCEEDED"];

export interface Instance {
  instanceArn: string;
  identityStoreId: string;
  ownerAccountId: string;
  name: string;
  createdAt: number;
}

export interface PermissionSet {
  arn: string;
  instanceArn: string;
  name: string;
  description: string | undefined;
  /** ISO 8601 duration, as the API reports it. */
  sessionDuration: string;
  createdAt: number;
  /** Accounts this permission set has been provisioned to (it exists as an IAM role there). */
  provisionedTo: Set<string>;
}

export interface Account {
  id: string;
  name: string;
  email: string;
  status: AccountStatus;
  joinedAt: number;
}

export interface Principal {
  type: PrincipalType;
  id: string;
  identityStoreId: string;
  /** Users only. */
  userName?: string;
  email?: string;
  displayName: string;
}

export interface Role {
  roleArn: string;
  /** The id AWS gives a role (`AROA…`), part of every session's AssumedRoleId. */
  roleId: string;
  /** When set, AssumeRole must present exactly this ExternalId (the trust policy's condition). */
  externalId: string | undefined;
  maxSessionDurationSeconds: number;
  /** When set, sessions of this role may only touch these instances: the role lives in one tenant's account. */
  trustedInstances: ReadonlySet<string> | undefined;
  /** The role is in a delegated administrator account: AWS refuses it assignments in the management account. */
  delegatedAdministrator: boolean;
  /** Actions its permission policy leaves out (`sso:DescribePermissionSet`): AWS answers AccessDenied to them. */
  deniedActions: ReadonlySet<string>;
}

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  roleArn: string;
  sessionName: string;
  assumedRoleId: string;
  assumedRoleArn: string;
  expiresAt: number;
}

/** An account assignment: this principal may use this permission set in this account. */
export interface Assignment {
  instanceArn: string;
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export interface AssignmentOperation {
  readonly kind: OperationKind;
  readonly requestId: string;
  /** Creation order, used to list operations stably. */
  readonly seq: number;
  readonly target: Readonly<Assignment>;
  readonly createdAt: number;
  readonly settlesAt: number;
  status: OperationStatus;
  failureReason?: string;
  /** Fault injection chose this operation to end FAILED. */
  readonly injectedFailure: boolean;
  /** Decided when it started (a delete of an assignment that does not exist, where AWS fails it). */
  readonly presetFailure?: string;
  /** The IAM role quota of the target account when it started. */
  readonly rolesPerAccount: number;
}

export function assignmentKey(a: Assignment): string {
  // JSON keeps the five parts apart whatever characters they contain.
  return JSON.stringify([a.instanceArn, a.accountId, a.permissionSetArn, a.principalType, a.principalId]);
}

function copyAssignment(a: Assignment): Assignment {
  const { instanceArn, accountId, permissionSetArn, principalType, principalId } = a;
  return { instanceArn, accountId, permissionSetArn, principalType, principalId };
}

export class SandboxState {
  readonly instances = new Map<string, Instance>();
  readonly instancesByIdentityStore = new Map<string, Instance>();
  readonly permissionSets = new Map<string, PermissionSet>();
  readonly accounts = new Map<string, Account>();
  readonly principals = new Map<string, Principal>();
  readonly roles = new Map<string, Role>();
  readonly sessions = new Map<string, Session>();

  private readonly assignmentsByKey = new Map<string, Assignment>();
  /** Every change to the assignments, oldest first: lists that lag behind read the past from it. */
  private readonly history: { at: number; key: string; assignment: Assignment; present: boolean }[] = [];
  /**
   * When each assignment existed, oldest first: `to` unset while it still does. A create of one that
   * exists extends nothing and starts nothing: the interval goes on. Never trimmed (tests read the
   * whole story of an assignment from it; it grows with creates and deletes, as operations do).
   */
  private readonly existence = new Map<string, { from: number; to?: number }[]>();
  /** When the last write on each assignment completed (a create or delete, or a change in the console). */
  private readonly lastWriteAt = new Map<string, number>();
  private readonly operationsById = new Map<string, AssignmentOperation>();
  /** The operation in progress on each assignment; AWS allows one at a time. */
  private readonly inFlightByKey = new Map<string, AssignmentOperation>();
  private readonly peakCreatesByInstance = new Map<string, number>();
  private nextSeq = 0;

  /** The instance, or the ResourceNotFoundException the API answers for an unknown one. */
  instance(instanceArn: string): Instance {
    const instance = this.instances.get(instanceArn);
    if (!instance) throw new AwsError("ResourceNotFoundException", `Instance ${instanceArn} does not exist`);
    return instance;
  }

  /** The permission set of that instance, or ResourceNotFoundException. */
  permissionSet(instanceArn: string, permissionSetArn: string): PermissionSet {
    const permissionSet = this.permissionSets.get(permissionSetArn);
    if (!permissionSet || permissionSet.instanceArn !== instanceArn) {
      throw new AwsError("ResourceNotFoundException", `Could not find PermissionSet with ARN ${permissionSetArn}`);
    }
    return permissionSet;
  }

  hasAssignment(a: Assignment): boolean {
    return this.assignmentsByKey.has(assignmentKey(a));
  }

  /** Adds the assignment (once) and provisions its permission set to the account, as AWS does on creation. */
  putAssignment(a: Assignment, at: number): void {
    const key = assignmentKey(a);
    if (!this.assignmentsByKey.has(key)) this.existence.set(key, [...(this.existence.get(key) ?? []), { from: at }]);
    this.assignmentsByKey.set(key, copyAssignment(a));
    this.permissionSets.get(a.permissionSetArn)?.provisionedTo.add(a.accountId);
    this.record(at, key, a, true);
  }

  /** Removes the assignment; the last one of a permission set in an account deprovisions the set there, as AWS does. */
  removeAssignment(a: Assignment, at: number): boolean {
    const key = assignmentKey(a);
    if (!this.assignmentsByKey.delete(key)) return false;
    const open = this.existence.get(key)?.at(-1);
    if (open) open.to = at;
    this.record(at, key, a, false);
    const stillUsed = [...this.assignmentsByKey.values()].some(
      (other) => other.accountId === a.accountId && other.permissionSetArn === a.permissionSetArn,
    );
    if (!stillUsed) this.permissionSets.get(a.permissionSetArn)?.provisionedTo.delete(a.accountId);
    return true;
  }

  private record(at: number, key: string, a: Assignment, present: boolean): void {
    this.history.push({ at, key, assignment: copyAssignment(a), present });
    // Lists never lag by more than minutes: older history is not needed.
    if (this.history.length > 100_000) this.history.splice(0, 50_000);
    this.lastWriteAt.set(key, at);
  }

  /** The intervals the assignment existed in, oldest first (a copy); the last one has no `to` while it exists. */
  existenceOf(a: Assignment): { from: number; to?: number }[] {
    return (this.existence.get(assignmentKey(a)) ?? []).map((interval) => ({ ...interval }));
  }

  /** When the last write on the assignment completed, if any. */
  lastWrite(a: Assignment): number | undefined {
    return this.lastWriteAt.get(assignmentKey(a));
  }

  assignments(filter: (a: Assignment) => boolean = () => true): Assignment[] {
    const selected = [...this.assignmentsByKey.entries()].filter(([, a]) => filter(a));
    return sortByKey(selected, ([key]) => key).map(([, a]) => copyAssignment(a));
  }

  /**
   * The assignments as a list taken at `now` shows them when lists lag `lagMs` behind: changes
   * made within the lag are not seen yet (an assignment created a moment ago is missing, one
   * deleted a moment ago is still there).
   */
  assignmentsSeen(now: number, lagMs: number, filter: (a: Assignment) => boolean = () => true): Assignment[] {
    if (lagMs <= 0) return this.assignments(filter);
    const seen = new Map(this.assignmentsByKey);
    for (let index = this.history.length - 1; index >= 0 && this.history[index]!.at > now - lagMs; index--) {
      const change = this.history[index]!;
      // Undo it: the list does not know of it yet.
      if (change.present) seen.delete(change.key);
      else seen.set(change.key, change.assignment);
    }
    const selected = [...seen.entries()].filter(([, a]) => filter(a));
    return sortByKey(selected, ([key]) => key).map(([, a]) => copyAssignment(a));
  }

  operation(requestId: string): AssignmentOperation | undefined {
    return this.operationsById.get(requestId);
  }

  /** Operations in the order they were started. */
  operations(filter: (op: AssignmentOperation) => boolean = () => true): AssignmentOperation[] {
    return [...this.operationsById.values()].filter(filter);
  }

  inFlightOn(a: Assignment): AssignmentOperation | undefined {
    return this.inFlightByKey.get(assignmentKey(a));
  }

  inFlightCount(kind: OperationKind, instanceArn?: string): number {
    let count = 0;
    for (const op of this.inFlightByKey.values()) {
      if (op.kind === kind && (instanceArn === undefined || op.target.instanceArn === instanceArn)) count++;
    }
    return count;
  }

  /** The most creations ever in progress at once on the instance (or the most on any instance). */
  peakInFlightCreates(instanceArn?: string): number {
    if (instanceArn !== undefined) return this.peakCreatesByInstance.get(instanceArn) ?? 0;
    return Math.max(0, ...this.peakCreatesByInstance.values());
  }

  start(init: {
    kind: OperationKind;
    requestId: string;
    target: Assignment;
    now: number;
    delayMs: number;
    injectedFailure: boolean;
    failureReason?: string;
    rolesPerAccount?: number;
  }): AssignmentOperation {
    const op: AssignmentOperation = {
      kind: init.kind,
      requestId: init.requestId,
      seq: this.nextSeq++,
      target: copyAssignment(init.target),
      createdAt: init.now,
      settlesAt: init.now + init.delayMs,
      status: "IN_PROGRESS",
      injectedFailure: init.injectedFailure,
      ...(init.failureReason !== undefined ? { presetFailure: init.failureReason } : {}),
      rolesPerAccount: init.rolesPerAccount ?? Number.POSITIVE_INFINITY,
    };
    this.operationsById.set(op.requestId, op);
    this.inFlightByKey.set(assignmentKey(op.target), op);
    if (op.kind === "create") {
      const instanceArn = op.target.instanceArn;
      const inFlight = this.inFlightCount("create", instanceArn);
      this.peakCreatesByInstance.set(instanceArn, Math.max(inFlight, this.peakCreatesByInstance.get(instanceArn) ?? 0));
    }
    return op;
  }

  /** Completes every operation whose time has come, in the order they were due. */
  settle(now: number): void {
    if (this.inFlightByKey.size === 0) return;
    const due = [...this.inFlightByKey.values()].filter((op) => op.settlesAt <= now);
    due.sort((a, b) => a.settlesAt - b.settlesAt || a.seq - b.seq);
    for (const op of due) this.complete(op);
  }

  private complete(op: AssignmentOperation): void {
    const at = op.settlesAt;
    this.inFlightByKey.delete(assignmentKey(op.target));
    const failure = this.failureOf(op);
    if (failure !== undefined) {
      op.status = "FAILED";
      op.failureReason = failure;
      return;
    }
    // Creating an assignment that exists and deleting one already gone both succeed: the end state is the same.
    if (op.kind === "create") this.putAssignment(op.target, at);
    else if (!this.removeAssignment(op.target, at)) this.lastWriteAt.set(assignmentKey(op.target), at);
    op.status = "SUCCEEDED";
  }

  /**
   * Why the operation fails, judged when it completes (as AWS provisions in the background): an
   * account can leave the organisation or be suspended while a creation is in progress.
   */
  private failureOf(op: AssignmentOperation): string | undefined {
    if (op.injectedFailure) return "Request failed due to an internal error. Retry the request (fault injected by the simulator).";
    if (op.presetFailure !== undefined) return op.presetFailure;
    if (op.kind === "delete") return undefined;
    const { accountId, principalType, principalId, instanceArn } = op.target;
    const account = this.accounts.get(accountId);
    if (!account) return `The target account ${accountId} is not a member of the organization.`;
    if (account.status === "SUSPENDED") return `The target account ${accountId} is suspended; assignments cannot be provisioned to it.`;
    const principal = this.principals.get(principalId);
    const identityStoreId = this.instances.get(instanceArn)?.identityStoreId;
    if (!principal || principal.type !== principalType || principal.identityStoreId !== identityStoreId) {
      return `The ${principalType.toLowerCase()} ${principalId} does not exist in identity store ${identityStoreId}.`;
    }
    // The first assignment of a set in an account creates its IAM role there: IAM's role quota applies.
    const provisioned = [...this.permissionSets.values()].filter((set) => set.provisionedTo.has(accountId)).length;
    if (!this.permissionSets.get(op.target.permissionSetArn)?.provisionedTo.has(accountId) && provisioned >= op.rolesPerAccount) {
      return `Received a 409 status error: Cannot exceed quota for RolesPerAccount: ${op.rolesPerAccount}. The permission set could not be provisioned to account ${accountId}.`;
    }
    return undefined;
  }
}

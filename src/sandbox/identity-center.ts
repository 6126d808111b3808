/**
 * A local IAM Identity Center (with the slices of Identity Store, Organizations and STS that
 * jitsudo needs), pure of HTTP. `server.ts` puts it behind the real AWS wire protocols; tests use
 * the methods here to set the world up and to read what it holds afterwards, which is how they
 * judge jitsudo: by the assignments that exist, not by what jitsudo says it did.
 *
 * Every call goes through `invoke`, in this order:
 *   1. settle asynchronous operations that are due (lazily, by the injected clock);
 *   2. find the operation (unknown → UnknownOperationException / InvalidAction);
 *   3. the front door (`front-door.ts`): authorisation (a session's token must match; with
 *      `requireAssumedRole`, only unexpired sessions from this simulator's AssumeRole may call; a role
 *      restricted to some instances may not touch others), then the rate limit (one token bucket per
 *      instance shared by sso-admin and identitystore, one for organizations), then seeded fault injection;
 *   4. the operation itself, which checks its input before anything else;
 * and every call, answered or refused, is appended to `calls`.
 */
import {
  DEFAULT_BEHAVIOUR,
  type AwsBehaviour,
  type Caller,
  type JsonObject,
  type OperationContext,
  type Service,
  type ServiceRequest,
  type Settings,
} from "./context.js";
import { AwsError, type ErrorCode } from "./errors.js";
import { FaultInjector, type FaultSettings, type Faults } from "./faults.js";
import { FrontDoor } from "./front-door.js";
import { InputReader, PATTERNS } from "./input.js";
import { MANAGEMENT_ACCOUNT_ID } from "./organizations.js";
import { Prng } from "./prng.js";
import { SERVICES } from "./services.js";
import { SandboxState, type AccountStatus, type Assignment, type OperationKind, type OperationStatus } from "./state.js";

export interface LocalIdentityCenterOptions {
  /** How long a CreateAccountAssignment stays IN_PROGRESS. Default 2000. */
  provisioningDelayMs?: number;
  /** How long a DeleteAccountAssignment stays IN_PROGRESS. Default: provisioningDelayMs. */
  deletionDelayMs?: number;
  /** Requests per second per instance across sso-admin and identitystore (burst of the same size); organizations has a bucket of its own at this rate. Default 20; Infinity turns limiting off. */
  requestsPerSecond?: number;
  /** CreateAccountAssignment operations that may be IN_PROGRESS at once on an instance. Default 10. */
  maxCreatesInFlight?: number;
  /** Most items a list page holds, whatever MaxResults asks. Default 100. */
  pageSize?: number;
  /** Cut every second page of a listing to half its size, as AWS may return short pages. Default true. */
  shortPages?: boolean;
  /** Initial fault injection; change it later with `setFaults`. Default: none. */
  faults?: Faults;
  /** Seed of the generators behind fault injection and identifiers, so runs repeat. Default 1. */
  seed?: number;
  /** The clock, in epoch milliseconds. Default Date.now. */
  now?: () => number;
  /** Refuse sso-admin, identitystore and organizations calls not signed with credentials from this simulator's AssumeRole. Default false. */
  requireAssumedRole?: boolean;
  /** Called after each call is logged (for demos and benchmarks that watch traffic). */
  onCall?: (call: CallRecord) => void;
  /** AWS's undocumented corners (conflicts after writes, lagging lists, …); default: the kindest reading. */
  behaviour?: Partial<AwsBehaviour>;
}

/** One call as the simulator saw it. */
export interface CallRecord {
  /** Clock reading when the call arrived. */
  at: number;
  service: Service;
  operation: string;
  /** The parsed request: the JSON body, or the form fields for STS. */
  input: Readonly<Record<string, unknown>>;
  /** "ok", or the code of the error answered. */
  outcome: "ok" | ErrorCode;
  /** From the request's signature. */
  accessKeyId?: string;
  /** The role whose session signed the call, when it was one this simulator issued. */
  roleArn?: string;
}

export interface InstanceInfo {
  instanceArn: string;
  identityStoreId: string;
  ownerAccountId: string;
}

export interface AssignmentOperationView {
  kind: OperationKind;
  requestId: string;
  status: OperationStatus;
  failureReason?: string;
  target: Assignment;
  createdAt: number;
  settlesAt: number;
}

const PERMISSION_SET_NAME = /^[\w+=,.@-]{1,32}$/;
const SESSION_DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?$/;

/** AWS lets a permission set's sessions last 1 to 12 hours, written in ISO 8601 (`PT1H`, `PT1H30M`). */
function sessionDurationOf(value: string): string {
  const match = SESSION_DURATION.exec(value);
  const minutes = match && (match[1] ?? match[2]) !== undefined ? Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0) : Number.NaN;
  if (!(minutes >= 60 && minutes <= 720))
    throw new Error(`sessionDuration ${JSON.stringify(value)} is not an ISO 8601 duration from PT1H to PT12H`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be a finite number >= 0`);
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new RangeError(`${name} must be an integer >= 1`);
  return value;
}

function mustMatch(what: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) throw new Error(`${what} ${JSON.stringify(value)} does not match ${pattern.source}`);
}

export class LocalIdentityCenter {
  private readonly state = new SandboxState();
  private readonly settings: Settings;
  private readonly clock: () => number;
  private readonly onCall: ((call: CallRecord) => void) | undefined;
  private readonly faultInjector: FaultInjector;
  private readonly frontDoor: FrontDoor;
  /** Identifiers (ARNs, user ids, request ids) come from their own stream, so adding a user does not change which calls faults hit. */
  private readonly ids: Prng;
  private log: CallRecord[] = [];

  constructor(options: LocalIdentityCenterOptions = {}) {
    const provisioningDelayMs = nonNegative("provisioningDelayMs", options.provisioningDelayMs ?? 2000);
    this.settings = {
      provisioningDelayMs,
      deletionDelayMs: nonNegative("deletionDelayMs", options.deletionDelayMs ?? provisioningDelayMs),
      maxCreatesInFlight: positiveInteger("maxCreatesInFlight", options.maxCreatesInFlight ?? 10),
      paging: { pageSize: positiveInteger("pageSize", options.pageSize ?? 100), shortPages: options.shortPages ?? true },
      ...DEFAULT_BEHAVIOUR,
      ...options.behaviour,
    };
    const requestsPerSecond = options.requestsPerSecond ?? 20;
    if (!(requestsPerSecond > 0)) throw new RangeError("requestsPerSecond must be > 0 (Infinity for no limit)");
    this.clock = options.now ?? Date.now;
    this.onCall = options.onCall;
    const seed = options.seed ?? 1;
    this.faultInjector = new FaultInjector(options.faults ?? {}, seed);
    this.ids = new Prng(seed ^ 0x1d5);
    this.frontDoor = new FrontDoor(this.state, {
      requestsPerSecond,
      requireAssumedRole: options.requireAssumedRole ?? false,
      faults: this.faultInjector,
    });
  }

  // ---------------------------------------------------------------- calls

  /** Runs one call; returns the operation's output or throws the AwsError to answer with. */
  invoke(request: ServiceRequest): JsonObject {
    const now = this.now();
    this.state.settle(now);
    const session = request.accessKeyId === undefined ? undefined : this.state.sessions.get(request.accessKeyId);
    const caller: Caller = { accessKeyId: request.accessKeyId, session };
    const record: CallRecord = { at: now, service: request.service, operation: request.operation, input: request.input, outcome: "ok" };
    if (request.accessKeyId !== undefined) record.accessKeyId = request.accessKeyId;
    if (session) record.roleArn = session.roleArn;
    try {
      const definition = SERVICES[request.service];
      const handler = definition.operations.get(request.operation);
      if (!handler) throw new AwsError(definition.unknownOperation, `Unknown operation ${request.service}:${request.operation}`);
      this.frontDoor.admit(request, caller, now);
      const ctx: OperationContext = {
        state: this.state,
        now,
        settings: this.settings,
        caller,
        visibleInstances: this.frontDoor.visibleInstances(caller),
        newRequestId: () => this.ids.uuid(),
        drawFailure: () => this.faultInjector.drawFailure(),
      };
      return handler(ctx, new InputReader(request.input, definition.reader));
    } catch (error) {
      record.outcome = error instanceof AwsError ? error.code : "InternalServerException";
      throw error;
    } finally {
      this.log.push(record);
      this.onCall?.(record);
    }
  }

  private now(): number {
    const now = this.clock();
    if (!Number.isFinite(now)) throw new Error("the injected clock returned a non-finite time");
    return now;
  }

  /** Every call so far, oldest first (a copy). */
  get calls(): readonly CallRecord[] {
    return [...this.log];
  }

  clearCalls(): void {
    this.log = [];
  }

  get faults(): Readonly<FaultSettings> {
    return this.faultInjector.current;
  }

  /** Replaces the fault settings (fractions left out become 0); the seeded sequence carries on. */
  setFaults(faults: Faults): void {
    this.faultInjector.set(faults);
  }

  // ---------------------------------------------------------------- seeding the world

  /** Adds an Identity Center instance with its identity store; ARN and ids are generated when left out. */
  addInstance(init: Partial<InstanceInfo> & { name?: string } = {}): InstanceInfo {
    const instanceArn = init.instanceArn ?? `arn:aws:sso:::instance/ssoins-${this.ids.hex(16)}`;
    const identityStoreId = init.identityStoreId ?? `d-${this.ids.hex(10)}`;
    const ownerAccountId = init.ownerAccountId ?? MANAGEMENT_ACCOUNT_ID;
    mustMatch("instanceArn", instanceArn, PATTERNS.instanceArn);
    mustMatch("identityStoreId", identityStoreId, PATTERNS.identityStoreId);
    mustMatch("ownerAccountId", ownerAccountId, PATTERNS.accountId);
    if (this.state.instances.has(instanceArn)) throw new Error(`instance ${instanceArn} already exists`);
    if (this.state.instancesByIdentityStore.has(identityStoreId))
      throw new Error(`identity store ${identityStoreId} already belongs to an instance`);
    const instance = { instanceArn, identityStoreId, ownerAccountId, name: init.name ?? "local", createdAt: this.now() };
    this.state.instances.set(instanceArn, instance);
    this.state.instancesByIdentityStore.set(identityStoreId, instance);
    return { instanceArn, identityStoreId, ownerAccountId };
  }

  /** Adds a permission set to the instance and returns its ARN. */
  addPermissionSet(
    instanceArn: string,
    init: { name: string; arn?: string; description?: string; sessionDuration?: string; provisionedTo?: readonly string[] },
  ): string {
    this.requireInstance(instanceArn);
    const instanceId = instanceArn.split("/").at(-1) ?? "";
    const arn = init.arn ?? `arn:aws:sso:::permissionSet/${instanceId}/ps-${this.ids.hex(16)}`;
    mustMatch("permission set ARN", arn, PATTERNS.permissionSetArn);
    // The instance's id is part of every permission set ARN it owns.
    if (!arn.includes(`/${instanceId}/`)) throw new Error(`permission set ARN ${arn} does not belong to instance ${instanceArn}`);
    mustMatch("permission set name", init.name, PERMISSION_SET_NAME);
    // AWS's default when CreatePermissionSet names none.
    const sessionDuration = sessionDurationOf(init.sessionDuration ?? "PT1H");
    if (this.state.permissionSets.has(arn)) throw new Error(`permission set ${arn} already exists`);
    for (const ps of this.state.permissionSets.values()) {
      if (ps.instanceArn === instanceArn && ps.name === init.name)
        throw new Error(`instance ${instanceArn} already has a permission set named ${init.name}`);
    }
    this.state.permissionSets.set(arn, {
      arn,
      instanceArn,
      name: init.name,
      description: init.description,
      sessionDuration,
      createdAt: this.now(),
      provisionedTo: new Set(),
    });
    for (const accountId of init.provisionedTo ?? []) this.provisionPermissionSet(instanceArn, arn, accountId);
    return arn;
  }

  /** Changes a permission set's session duration, as UpdatePermissionSet would; sessions opened later last this long. */
  setSessionDuration(instanceArn: string, permissionSetArn: string, sessionDuration: string): void {
    this.requirePermissionSet(instanceArn, permissionSetArn).sessionDuration = sessionDurationOf(sessionDuration);
  }

  /** Marks the permission set as provisioned to the account (as ProvisionPermissionSet would). */
  provisionPermissionSet(instanceArn: string, permissionSetArn: string, accountId: string): void {
    mustMatch("accountId", accountId, PATTERNS.accountId);
    this.requirePermissionSet(instanceArn, permissionSetArn).provisionedTo.add(accountId);
  }

  /** Adds an account to the organisation (shared by every instance). */
  addAccount(init: { id: string; name: string; email?: string; status?: AccountStatus }): void {
    mustMatch("account id", init.id, PATTERNS.accountId);
    if (this.state.accounts.has(init.id)) throw new Error(`account ${init.id} already exists`);
    this.state.accounts.set(init.id, {
      id: init.id,
      name: init.name,
      email: init.email ?? `aws+${init.id}@example.com`,
      status: init.status ?? "ACTIVE",
      joinedAt: this.now(),
    });
  }

  /** Suspends or reactivates an account; creations still in progress judge it when they complete. */
  setAccountStatus(accountId: string, status: AccountStatus): void {
    const account = this.state.accounts.get(accountId);
    if (!account) throw new Error(`account ${accountId} does not exist`);
    account.status = status;
  }

  /** Adds a user to the identity store and returns its UserId. User names and emails are unique per store. */
  addUser(identityStoreId: string, init: { userName: string; email?: string; displayName?: string }): string {
    this.requireIdentityStore(identityStoreId);
    if (init.userName.length === 0 || init.userName.length > 128) throw new Error("userName must have 1 to 128 characters");
    for (const p of this.state.principals.values()) {
      if (p.identityStoreId !== identityStoreId || p.type !== "USER") continue;
      if (p.userName === init.userName) throw new Error(`identity store ${identityStoreId} already has a user named ${init.userName}`);
      if (init.email !== undefined && p.email === init.email)
        throw new Error(`identity store ${identityStoreId} already has a user with email ${init.email}`);
    }
    const id = this.newPrincipalId();
    this.state.principals.set(id, {
      type: "USER",
      id,
      identityStoreId,
      userName: init.userName,
      ...(init.email !== undefined && { email: init.email }),
      displayName: init.displayName ?? init.userName,
    });
    return id;
  }

  /** Adds a group to the identity store and returns its GroupId (assignments may name groups too). */
  addGroup(identityStoreId: string, init: { displayName: string }): string {
    this.requireIdentityStore(identityStoreId);
    const id = this.newPrincipalId();
    this.state.principals.set(id, { type: "GROUP", id, identityStoreId, displayName: init.displayName });
    return id;
  }

  /**
   * Adds an IAM role AssumeRole can issue sessions for. `externalId` is the trust policy's
   * sts:ExternalId condition; `trustedInstances` limits its sessions to those instances, as a role
   * in one tenant's account reaches only that tenant's Identity Center.
   */
  addRole(init: {
    roleArn: string;
    externalId?: string;
    trustedInstances?: readonly string[];
    maxSessionDurationSeconds?: number;
    delegatedAdministrator?: boolean;
    /** IAM actions the role's permission policy leaves out (`sso:DescribePermissionSet`): its sessions are refused them. */
    deniedActions?: readonly string[];
  }): void {
    mustMatch("roleArn", init.roleArn, PATTERNS.roleArn);
    if (init.externalId !== undefined) mustMatch("externalId", init.externalId, PATTERNS.externalId);
    if (this.state.roles.has(init.roleArn)) throw new Error(`role ${init.roleArn} already exists`);
    const maxSessionDurationSeconds = init.maxSessionDurationSeconds ?? 3600;
    if (!(Number.isSafeInteger(maxSessionDurationSeconds) && maxSessionDurationSeconds >= 3600 && maxSessionDurationSeconds <= 43_200)) {
      throw new RangeError("maxSessionDurationSeconds must be an integer from 3600 to 43200");
    }
    this.state.roles.set(init.roleArn, {
      roleArn: init.roleArn,
      roleId: `AROA${this.ids.upperAlphanumeric(17)}`,
      externalId: init.externalId,
      maxSessionDurationSeconds,
      trustedInstances: init.trustedInstances === undefined ? undefined : new Set(init.trustedInstances),
      delegatedAdministrator: init.delegatedAdministrator ?? false,
      deniedActions: new Set(init.deniedActions ?? []),
    });
  }

  // ---------------------------------------------------------------- drift, made behind jitsudo's back

  /** Creates an assignment at once, as someone clicking in the console would (no operation, no checks on account or principal). */
  addAssignmentOutOfBand(assignment: Assignment): void {
    this.requirePermissionSet(assignment.instanceArn, assignment.permissionSetArn);
    mustMatch("accountId", assignment.accountId, PATTERNS.accountId);
    const now = this.now();
    this.state.settle(now);
    this.state.putAssignment(assignment, now);
  }

  /** Removes an assignment at once; returns whether it existed. */
  deleteAssignmentOutOfBand(assignment: Assignment): boolean {
    const now = this.now();
    this.state.settle(now);
    return this.state.removeAssignment(assignment, now);
  }

  // ---------------------------------------------------------------- inspection

  /** The assignments that exist now (after settling), optionally of one instance. */
  assignments(instanceArn?: string): Assignment[] {
    this.state.settle(this.now());
    return this.state.assignments((a) => instanceArn === undefined || a.instanceArn === instanceArn);
  }

  /** Every creation and deletion started through the API, oldest first, with their status now. */
  operations(instanceArn?: string): AssignmentOperationView[] {
    this.state.settle(this.now());
    return this.state
      .operations((op) => instanceArn === undefined || op.target.instanceArn === instanceArn)
      .map((op) => ({
        kind: op.kind,
        requestId: op.requestId,
        status: op.status,
        ...(op.failureReason !== undefined && { failureReason: op.failureReason }),
        target: { ...op.target },
        createdAt: op.createdAt,
        settlesAt: op.settlesAt,
      }));
  }

  /**
   * When the assignment existed, by the simulator's own record (every create, delete and console
   * change that took effect), oldest first; the last interval has no `to` while it still exists.
   * A create of an assignment that exists leaves its interval unbroken: that is how a test proves
   * an assignment was never deleted and re-created ("no gap").
   */
  existence(assignment: Assignment): { from: number; to?: number }[] {
    this.state.settle(this.now());
    return this.state.existenceOf(assignment);
  }

  /** Creations IN_PROGRESS now, on the instance or on all of them. */
  inFlightCreates(instanceArn?: string): number {
    this.state.settle(this.now());
    return this.state.inFlightCount("create", instanceArn);
  }

  /** Deletions IN_PROGRESS now. */
  inFlightDeletes(instanceArn?: string): number {
    this.state.settle(this.now());
    return this.state.inFlightCount("delete", instanceArn);
  }

  /** The most creations ever IN_PROGRESS at once (on the instance, or on the busiest one). */
  peakInFlightCreates(instanceArn?: string): number {
    return this.state.peakInFlightCreates(instanceArn);
  }

  // ---------------------------------------------------------------- helpers

  private requireInstance(instanceArn: string): void {
    if (!this.state.instances.has(instanceArn)) throw new Error(`instance ${instanceArn} does not exist; add it with addInstance`);
  }

  private requireIdentityStore(identityStoreId: string): void {
    if (!this.state.instancesByIdentityStore.has(identityStoreId))
      throw new Error(`identity store ${identityStoreId} does not belong to any instance`);
  }

  private requirePermissionSet(instanceArn: string, permissionSetArn: string) {
    this.requireInstance(instanceArn);
    const ps = this.state.permissionSets.get(permissionSetArn);
    if (!ps || ps.instanceArn !== instanceArn)
      throw new Error(`permission set ${permissionSetArn} does not exist on instance ${instanceArn}`);
    return ps;
  }

  /** Identity Store ids look like `9067xxxxxx-<uuid>`. */
  private newPrincipalId(): string {
    return `${this.ids.hex(10)}-${this.ids.uuid()}`;
  }
}

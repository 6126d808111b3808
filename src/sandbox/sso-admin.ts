/**
 * The sso-admin operations jitsudo calls (awsJson1_1, target prefix `SWBExternalService.`).
 * Field names and shapes follow the AWS API model. Every handler reads and checks all of its input
 * before it looks anything up, so malformed input is a ValidationException whatever else is wrong,
 * as in AWS.
 */
import { epochSeconds, type Handler, type JsonObject, type OperationContext } from "./context.js";
import { AwsError } from "./errors.js";
import { MANAGEMENT_ACCOUNT_ID } from "./organizations.js";
import { PATTERNS, type InputReader } from "./input.js";
import { paginate, sortByKey } from "./paging.js";
import { OPERATION_STATUSES, PRINCIPAL_TYPES, type Assignment, type AssignmentOperation, type OperationKind } from "./state.js";

const ARN_MAX = 1224;
const MAX_RESULTS = 100;

const STATUS_MEMBER = { create: "AccountAssignmentCreationStatus", delete: "AccountAssignmentDeletionStatus" } as const;
const STATUS_LIST_MEMBER = { create: "AccountAssignmentsCreationStatus", delete: "AccountAssignmentsDeletionStatus" } as const;
const REQUEST_ID_MEMBER = { create: "AccountAssignmentCreationRequestId", delete: "AccountAssignmentDeletionRequestId" } as const;

function readInstanceArn(r: InputReader): string {
  return r.string("InstanceArn", { pattern: PATTERNS.instanceArn, maxLength: ARN_MAX });
}

function readPermissionSetArn(r: InputReader): string {
  return r.string("PermissionSetArn", { pattern: PATTERNS.permissionSetArn, maxLength: ARN_MAX });
}

function readPaging(r: InputReader): { maxResults: number | undefined; nextToken: string | undefined } {
  return { maxResults: r.optionalInteger("MaxResults", 1, MAX_RESULTS), nextToken: r.optionalString("NextToken", { maxLength: 2048 }) };
}

/** The five fields that name an assignment, as CreateAccountAssignment and DeleteAccountAssignment take them. */
function readTarget(r: InputReader): Assignment {
  const instanceArn = readInstanceArn(r);
  const accountId = r.string("TargetId", { pattern: PATTERNS.accountId });
  r.oneOf("TargetType", ["AWS_ACCOUNT"]);
  const permissionSetArn = readPermissionSetArn(r);
  const principalType = r.oneOf("PrincipalType", PRINCIPAL_TYPES);
  const principalId = r.string("PrincipalId", { pattern: PATTERNS.principalId, maxLength: 47 });
  return { instanceArn, accountId, permissionSetArn, principalType, principalId };
}

function statusOf(op: AssignmentOperation): JsonObject {
  return {
    Status: op.status,
    RequestId: op.requestId,
    FailureReason: op.failureReason,
    TargetId: op.target.accountId,
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: op.target.permissionSetArn,
    PrincipalType: op.target.principalType,
    PrincipalId: op.target.principalId,
    CreatedDate: epochSeconds(op.createdAt),
  };
}

/**
 * CreateAccountAssignment / DeleteAccountAssignment: checks what AWS checks synchronously, then
 * starts the operation, which completes (or fails) later. Order of checks: input, instance,
 * permission set, another operation on the same assignment (ConflictException), then for a delete
 * that the assignment exists, for a create the cap on creations in progress.
 */
function startOperation(kind: OperationKind): Handler {
  return (ctx, r) => {
    const target = readTarget(r);
    ctx.state.instance(target.instanceArn);
    ctx.state.permissionSet(target.instanceArn, target.permissionSetArn);

    const missing = refuseAsAwsWould(ctx, kind, target);
    const { settings } = ctx;
    // The first assignment of a set in an account provisions the set there: slower.
    const firstInAccount =
      kind === "create" && !ctx.state.permissionSet(target.instanceArn, target.permissionSetArn).provisionedTo.has(target.accountId);

    const op = ctx.state.start({
      kind,
      requestId: ctx.newRequestId(),
      target,
      now: ctx.now,
      delayMs:
        kind === "create"
          ? settings.provisioningDelayMs + (firstInAccount ? settings.firstAssignmentDelayMs : 0)
          : settings.deletionDelayMs,
      injectedFailure: ctx.drawFailure(),
      rolesPerAccount: settings.rolesPerAccount,
      ...(missing && settings.deleteMissing === "failed"
        ? { failureReason: "An unexpected internal service exception was encountered." }
        : {}),
    });
    return { [STATUS_MEMBER[kind]]: statusOf(op) };
  };
}

/**
 * The synchronous refusals, after input, instance and permission set: the management account, another
 * operation on the same assignment, an unpropagated write, a missing assignment to delete, the create
 * cap. Returns whether a delete targets an assignment that does not exist (and is not refused for it).
 */
function refuseAsAwsWould(ctx: OperationContext, kind: OperationKind, target: Assignment): boolean {
  const { settings } = ctx;
  // A delegated administrator may not assign in the organisation's management account.
  const role = ctx.caller.session ? ctx.state.roles.get(ctx.caller.session.roleArn) : undefined;
  if (role?.delegatedAdministrator && target.accountId === MANAGEMENT_ACCOUNT_ID) {
    throw new AwsError(
      "AccessDeniedException",
      `User: ${ctx.caller.session!.assumedRoleArn} is not authorized to perform this operation on the management account ${target.accountId}: a delegated administrator cannot manage assignments in the management account`,
    );
  }
  const running = ctx.state.inFlightOn(target);
  if (running) {
    throw new AwsError(
      "ConflictException",
      `An account assignment ${running.kind === "create" ? "creation" : "deletion"} (request ${running.requestId}) is already in progress for this principal, permission set and account`,
    );
  }
  const lastWrite = ctx.state.lastWrite(target);
  if (lastWrite !== undefined && ctx.now - lastWrite < settings.conflictAfterWriteMs) {
    throw new AwsError("ConflictException", "A previous write to this account assignment has not propagated yet; try again later");
  }
  const missing = kind === "delete" && !ctx.state.hasAssignment(target);
  if (missing && settings.deleteMissing === "not-found") {
    throw new AwsError("ResourceNotFoundException", "The account assignment to delete does not exist");
  }
  if (kind === "create") {
    const inFlight = ctx.state.inFlightCount("create", target.instanceArn);
    if (inFlight >= settings.maxCreatesInFlight) {
      throw new AwsError(
        settings.inFlightCapError,
        `Too many account assignment creations in progress: ${inFlight} of ${settings.maxCreatesInFlight} allowed at once on this instance`,
      );
    }
  }
  return missing;
}

function describeStatus(kind: OperationKind): Handler {
  return (ctx, r) => {
    const instanceArn = readInstanceArn(r);
    const requestId = r.string(REQUEST_ID_MEMBER[kind], { pattern: PATTERNS.requestId });
    ctx.state.instance(instanceArn);
    const op = ctx.state.operation(requestId);
    // A deletion's id asked for as a creation (or another instance's) is as unknown as a made-up one,
    // and so is one older than AWS keeps statuses.
    if (!op || op.kind !== kind || op.target.instanceArn !== instanceArn || ctx.now - op.createdAt > ctx.settings.statusRetentionMs) {
      throw new AwsError("ResourceNotFoundException", `Request ${requestId} does not exist`);
    }
    return { [STATUS_MEMBER[kind]]: statusOf(op) };
  };
}

/** Lists operations with their status, so one call can poll many; most recent last. */
function listStatus(kind: OperationKind): Handler {
  return (ctx, r) => {
    const instanceArn = readInstanceArn(r);
    const paging = readPaging(r);
    const status = r.optionalObject("Filter")?.optionalOneOf("Status", OPERATION_STATUSES);
    ctx.state.instance(instanceArn);
    const ops = ctx.state.operations(
      (op) =>
        op.kind === kind &&
        op.target.instanceArn === instanceArn &&
        (status === undefined || op.status === status) &&
        ctx.now - op.createdAt <= ctx.settings.statusRetentionMs,
    );
    const seqKey = (op: AssignmentOperation) => String(op.seq).padStart(15, "0");
    const page = paginate(
      ops,
      seqKey,
      { ...paging, query: JSON.stringify([`status:${kind}`, instanceArn, status]) },
      ctx.settings.paging,
      "ValidationException",
    );
    return {
      [STATUS_LIST_MEMBER[kind]]: page.items.map((op) => ({
        Status: op.status,
        RequestId: op.requestId,
        CreatedDate: epochSeconds(op.createdAt),
      })),
      NextToken: page.nextToken,
    };
  };
}

const listAccountAssignments: Handler = (ctx, r) => {
  const instanceArn = readInstanceArn(r);
  const accountId = r.string("AccountId", { pattern: PATTERNS.accountId });
  const permissionSetArn = readPermissionSetArn(r);
  const paging = readPaging(r);
  ctx.state.instance(instanceArn);
  ctx.state.permissionSet(instanceArn, permissionSetArn);
  const keyOf = (a: Assignment) => `${a.principalType}:${a.principalId}`;
  const assignments = sortByKey(
    ctx.state.assignmentsSeen(
      ctx.now,
      ctx.settings.listLagMs,
      (a) => a.instanceArn === instanceArn && a.accountId === accountId && a.permissionSetArn === permissionSetArn,
    ),
    keyOf,
  );
  const query = JSON.stringify(["assignments", instanceArn, accountId, permissionSetArn]);
  const page = paginate(assignments, keyOf, { ...paging, query }, ctx.settings.paging, "ValidationException");
  return {
    AccountAssignments: page.items.map((a) => ({
      AccountId: a.accountId,
      PermissionSetArn: a.permissionSetArn,
      PrincipalType: a.principalType,
      PrincipalId: a.principalId,
    })),
    NextToken: page.nextToken,
  };
};

const listAccountAssignmentsForPrincipal: Handler = (ctx, r) => {
  const instanceArn = readInstanceArn(r);
  const principalId = r.string("PrincipalId", { pattern: PATTERNS.principalId, maxLength: 47 });
  const principalType = r.oneOf("PrincipalType", PRINCIPAL_TYPES);
  const accountId = r.optionalObject("Filter")?.optionalString("AccountId", { pattern: PATTERNS.accountId });
  const paging = readPaging(r);
  ctx.state.instance(instanceArn);
  const keyOf = (a: Assignment) => `${a.accountId}:${a.permissionSetArn}`;
  const assignments = sortByKey(
    ctx.state.assignmentsSeen(
      ctx.now,
      ctx.settings.listLagMs,
      (a) =>
        a.instanceArn === instanceArn &&
        a.principalType === principalType &&
        a.principalId === principalId &&
        (accountId === undefined || a.accountId === accountId),
    ),
    keyOf,
  );
  const query = JSON.stringify(["principal", instanceArn, principalType, principalId, accountId]);
  const page = paginate(assignments, keyOf, { ...paging, query }, ctx.settings.paging, "ValidationException");
  return {
    AccountAssignments: page.items.map((a) => ({
      AccountId: a.accountId,
      PermissionSetArn: a.permissionSetArn,
      PrincipalId: a.principalId,
      PrincipalType: a.principalType,
    })),
    NextToken: page.nextToken,
  };
};

const listPermissionSets: Handler = (ctx, r) => {
  const instanceArn = readInstanceArn(r);
  const paging = readPaging(r);
  ctx.state.instance(instanceArn);
  const arns = sortByKey(
    [...ctx.state.permissionSets.values()].filter((ps) => ps.instanceArn === instanceArn).map((ps) => ps.arn),
    (arn) => arn,
  );
  const page = paginate(
    arns,
    (arn) => arn,
    { ...paging, query: JSON.stringify(["permissionSets", instanceArn]) },
    ctx.settings.paging,
    "ValidationException",
  );
  return { PermissionSets: page.items, NextToken: page.nextToken };
};

const describePermissionSet: Handler = (ctx, r) => {
  const instanceArn = readInstanceArn(r);
  const permissionSetArn = readPermissionSetArn(r);
  ctx.state.instance(instanceArn);
  const ps = ctx.state.permissionSet(instanceArn, permissionSetArn);
  return {
    PermissionSet: {
      Name: ps.name,
      PermissionSetArn: ps.arn,
      Description: ps.description,
      CreatedDate: epochSeconds(ps.createdAt),
      SessionDuration: ps.sessionDuration,
    },
  };
};

/** Accounts the permission set is provisioned to; the simulator's provisioning is always up to date. */
const listAccountsForProvisionedPermissionSet: Handler = (ctx, r) => {
  const instanceArn = readInstanceArn(r);
  const permissionSetArn = readPermissionSetArn(r);
  const provisioning = r.optionalOneOf("ProvisioningStatus", [
    "LATEST_PERMISSION_SET_PROVISIONED",
    "LATEST_PERMISSION_SET_NOT_PROVISIONED",
  ]);
  const paging = readPaging(r);
  ctx.state.instance(instanceArn);
  const ps = ctx.state.permissionSet(instanceArn, permissionSetArn);
  const accountIds = provisioning === "LATEST_PERMISSION_SET_NOT_PROVISIONED" ? [] : sortByKey(ps.provisionedTo, (id) => id);
  const query = JSON.stringify(["provisioned", instanceArn, permissionSetArn, provisioning]);
  const page = paginate(accountIds, (id) => id, { ...paging, query }, ctx.settings.paging, "ValidationException");
  return { AccountIds: page.items, NextToken: page.nextToken };
};

/** Instances visible to the caller: a tenant's role sees its own instance only, as in its own AWS account. */
const listInstances: Handler = (ctx, r) => {
  const paging = readPaging(r);
  const visible = [...ctx.state.instances.values()].filter(
    (i) => ctx.visibleInstances === undefined || ctx.visibleInstances.has(i.instanceArn),
  );
  const instances = sortByKey(visible, (i) => i.instanceArn);
  const page = paginate(
    instances,
    (i) => i.instanceArn,
    { ...paging, query: JSON.stringify(["instances"]) },
    ctx.settings.paging,
    "ValidationException",
  );
  return {
    Instances: page.items.map((i) => ({
      InstanceArn: i.instanceArn,
      IdentityStoreId: i.identityStoreId,
      OwnerAccountId: i.ownerAccountId,
      Name: i.name,
      CreatedDate: epochSeconds(i.createdAt),
      Status: "ACTIVE",
    })),
    NextToken: page.nextToken,
  };
};

export const SSO_ADMIN_OPERATIONS: ReadonlyMap<string, Handler> = new Map([
  ["CreateAccountAssignment", startOperation("create")],
  ["DeleteAccountAssignment", startOperation("delete")],
  ["DescribeAccountAssignmentCreationStatus", describeStatus("create")],
  ["DescribeAccountAssignmentDeletionStatus", describeStatus("delete")],
  ["ListAccountAssignmentCreationStatus", listStatus("create")],
  ["ListAccountAssignmentDeletionStatus", listStatus("delete")],
  ["ListAccountAssignments", listAccountAssignments],
  ["ListAccountAssignmentsForPrincipal", listAccountAssignmentsForPrincipal],
  ["ListPermissionSets", listPermissionSets],
  ["DescribePermissionSet", describePermissionSet],
  ["ListAccountsForProvisionedPermissionSet", listAccountsForProvisionedPermissionSet],
  ["ListInstances", listInstances],
]);

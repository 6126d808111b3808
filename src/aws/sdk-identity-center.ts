/**
 * IdentityCenter over the AWS SDK v3 clients. Every HTTP attempt, the SDK's own retries included,
 * first takes a slot from the instance's shared rate limiter (a middleware placed after the
 * retry step), so jitsudo's accounting matches what AWS counts. Listings use the SDK's paginators,
 * which hand each page's command to `withCommand` before sending it: that is where the limiter is
 * attached, so every page goes through the same limiter and priority as a single call.
 */
import { GetUserIdCommand, type IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { DescribeOrganizationCommand, paginateListAccounts, type OrganizationsClient } from "@aws-sdk/client-organizations";
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  paginateListAccountAssignmentCreationStatus,
  paginateListAccountAssignmentDeletionStatus,
  paginateListAccountAssignments,
  paginateListAccountAssignmentsForPrincipal,
  paginateListAccountsForProvisionedPermissionSet,
  paginateListPermissionSets,
  type AccountAssignmentOperationStatus,
  type SSOAdminClient,
  type SSOAdminPaginationConfiguration,
} from "@aws-sdk/client-sso-admin";
import type { Command, FinalizeRequestMiddleware } from "@smithy/types";
import { classifyAwsError } from "./errors.js";
import type { Assignment, IdentityCenter, OperationKind, OperationStatus, PermissionSet, PrincipalType } from "./identity-center.js";
import type { Metrics } from "../observability/metrics.js";
import type { CallPriority, RateLimiter } from "./rate-limiter.js";

export interface SdkClients {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
  organizations: OrganizationsClient;
}

export interface SdkIdentityCenterOptions {
  clients: SdkClients;
  instanceArn: string;
  identityStoreId: string;
  /** The session's identity for caches (see IdentityCenter.view), less the instance and identity store. */
  caller: string;
  limiter: RateLimiter;
  /** Whose calls these are (a repository id): tenants of one instance take turns at its rate limit. */
  tenant?: string;
  /** How urgent this session's mutating calls are; status reads go as "poll", drift's as "drift". */
  priority: CallPriority;
  /** Where every request (and every throttle) is counted. */
  metrics?: Metrics;
}

/** AWS's largest page for these list operations. */
const PAGE = 100;

export class SdkIdentityCenter implements IdentityCenter {
  readonly instanceArn: string;
  readonly view: string;

  constructor(private readonly options: SdkIdentityCenterOptions) {
    this.instanceArn = options.instanceArn;
    this.view = `${options.instanceArn}|${options.identityStoreId}|${options.caller}`;
  }

  async prepareSession(): Promise<void> {
    // The client's credential provider is the one its calls use: with a role, RoleSessions' cache.
    await this.options.clients.ssoAdmin.config.credentials();
  }

  async createAssignment(assignment: Assignment, options: { onSent?: () => void } = {}): Promise<OperationStatus> {
    const command = new CreateAccountAssignmentCommand(this.target(assignment));
    const answered = answerArrival(command);
    const output = await this.sso(command, this.options.priority, options.onSent);
    return { ...toStatus(output.AccountAssignmentCreationStatus), answeredMsAgo: answered.msAgo() };
  }

  async deleteAssignment(assignment: Assignment): Promise<OperationStatus | "not-found"> {
    try {
      const output = await this.sso(new DeleteAccountAssignmentCommand(this.target(assignment)), this.options.priority);
      return toStatus(output.AccountAssignmentDeletionStatus);
    } catch (error) {
      if (classifyAwsError(error) === "not-found") return "not-found";
      throw error;
    }
  }

  async describeOperation(kind: OperationKind, requestId: string): Promise<OperationStatus> {
    const priority = this.statusPriority(kind);
    const asked = performance.now();
    let sent = asked;
    const onSent = () => {
      sent = performance.now();
    };
    const status =
      kind === "create"
        ? toStatus(
            (
              await this.sso(
                new DescribeAccountAssignmentCreationStatusCommand({
                  InstanceArn: this.instanceArn,
                  AccountAssignmentCreationRequestId: requestId,
                }),
                priority,
                onSent,
              )
            ).AccountAssignmentCreationStatus,
          )
        : toStatus(
            (
              await this.sso(
                new DescribeAccountAssignmentDeletionStatusCommand({
                  InstanceArn: this.instanceArn,
                  AccountAssignmentDeletionRequestId: requestId,
                }),
                priority,
                onSent,
              )
            ).AccountAssignmentDeletionStatus,
          );
    return { ...status, queuedMs: sent - asked };
  }

  async operationsWithStatus(
    kind: OperationKind,
    status: "IN_PROGRESS" | "FAILED",
    maxPages = Number.POSITIVE_INFINITY,
  ): Promise<{ ids: Set<string>; complete: boolean }> {
    const ids = new Set<string>();
    if (maxPages < 1) return { ids, complete: false };
    // The FAILED list only tells how finished operations ended: the IN_PROGRESS list before it
    // already freed their create slots (src/jobs/operation-poller.ts), so it waits for spare
    // capacity instead of taking tokens from the creates those slots start.
    const urgency = this.statusPriority(kind);
    const paging = this.paging(status === "FAILED" && urgency === "provision" ? "poll" : urgency);
    const input = { InstanceArn: this.instanceArn, Filter: { Status: status }, MaxResults: PAGE };
    const pages =
      kind === "create"
        ? mapPages(
            paginateListAccountAssignmentCreationStatus(paging, input),
            (page) => [page.AccountAssignmentsCreationStatus, page.NextToken] as const,
          )
        : mapPages(
            paginateListAccountAssignmentDeletionStatus(paging, input),
            (page) => [page.AccountAssignmentsDeletionStatus, page.NextToken] as const,
          );
    let read = 0;
    for await (const [items, nextToken] of pages) {
      read += 1;
      for (const item of items ?? []) if (item.RequestId) ids.add(item.RequestId);
      // Leaving the loop stops the paginator before it asks for the next page.
      if (nextToken && read >= maxPages) return { ids, complete: false };
    }
    return { ids, complete: true };
  }

  async userId(userName: string): Promise<string | undefined> {
    // An address finds the user by e-mail, anything else by user name: both are unique in a store.
    const attribute = userName.includes("@") && !userName.startsWith("@") ? ["userName", "emails.value"] : ["userName"];
    for (const path of attribute) {
      try {
        const command = new GetUserIdCommand({
          IdentityStoreId: this.options.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: userName } },
        });
        command.middlewareStack.addRelativeTo(this.limit("GetUserId", this.options.priority), LIMIT_STEP);
        const output = await this.options.clients.identityStore.send(command);
        if (output.UserId) return output.UserId;
      } catch (error) {
        if (classifyAwsError(error) !== "not-found") throw error;
      }
    }
    return undefined;
  }

  async accounts(): Promise<{ id: string; name: string; status: string }[]> {
    // Organizations is a separate, global service with its own limits: not the instance's budget.
    const accounts: { id: string; name: string; status: string }[] = [];
    for await (const page of paginateListAccounts({ client: this.options.clients.organizations }, { MaxResults: 20 })) {
      for (const account of page.Accounts ?? []) {
        if (account.Id)
          accounts.push({ id: account.Id, name: account.Name ?? "", status: String(account.State ?? account.Status ?? "ACTIVE") });
      }
    }
    return accounts;
  }

  async managementAccountId(): Promise<string | undefined> {
    try {
      const { Organization } = await this.options.clients.organizations.send(new DescribeOrganizationCommand({}));
      return Organization?.MasterAccountId;
    } catch {
      return undefined;
    }
  }

  async permissionSets(): Promise<PermissionSet[]> {
    const arns: string[] = [];
    const input = { InstanceArn: this.instanceArn, MaxResults: PAGE };
    for await (const page of paginateListPermissionSets(this.paging(this.readPriority()), input)) {
      arns.push(...(page.PermissionSets ?? []));
    }
    const sets: PermissionSet[] = [];
    for (const arn of arns) {
      const output = await this.sso(
        new DescribePermissionSetCommand({ InstanceArn: this.instanceArn, PermissionSetArn: arn }),
        this.readPriority(),
      );
      sets.push(permissionSetOf(arn, output.PermissionSet));
    }
    return sets;
  }

  async describePermissionSet(permissionSetArn: string): Promise<PermissionSet | undefined> {
    try {
      const output = await this.sso(
        new DescribePermissionSetCommand({ InstanceArn: this.instanceArn, PermissionSetArn: permissionSetArn }),
        this.readPriority(),
      );
      return permissionSetOf(permissionSetArn, output.PermissionSet);
    } catch (error) {
      if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw error;
    }
  }

  async accountsWithPermissionSet(permissionSetArn: string): Promise<string[]> {
    const accounts: string[] = [];
    const input = { InstanceArn: this.instanceArn, PermissionSetArn: permissionSetArn, MaxResults: PAGE };
    for await (const page of paginateListAccountsForProvisionedPermissionSet(this.paging(this.readPriority()), input)) {
      accounts.push(...(page.AccountIds ?? []));
    }
    return accounts;
  }

  assignments(accountId: string, permissionSetArn: string): Promise<Assignment[]> {
    return collectAssignments(
      paginateListAccountAssignments(this.paging(this.readPriority()), {
        InstanceArn: this.instanceArn,
        AccountId: accountId,
        PermissionSetArn: permissionSetArn,
        MaxResults: PAGE,
      }),
    );
  }

  assignmentsOfPrincipal(principalId: string, principalType: PrincipalType = "USER"): Promise<Assignment[]> {
    return collectAssignments(
      paginateListAccountAssignmentsForPrincipal(this.paging(this.readPriority()), {
        InstanceArn: this.instanceArn,
        PrincipalId: principalId,
        PrincipalType: principalType,
        MaxResults: PAGE,
      }),
    );
  }

  async hasAssignment(assignment: Assignment): Promise<boolean> {
    const found = await collectAssignments(
      paginateListAccountAssignmentsForPrincipal(this.paging(this.readPriority()), {
        InstanceArn: this.instanceArn,
        PrincipalId: assignment.principalId,
        PrincipalType: assignment.principalType,
        Filter: { AccountId: assignment.accountId },
        MaxResults: PAGE,
      }),
    );
    return found.some((candidate) => candidate.permissionSetArn === assignment.permissionSetArn);
  }

  private target(assignment: Assignment) {
    return {
      InstanceArn: this.instanceArn,
      TargetId: assignment.accountId,
      TargetType: "AWS_ACCOUNT" as const,
      PermissionSetArn: assignment.permissionSetArn,
      PrincipalType: assignment.principalType,
      PrincipalId: assignment.principalId,
    };
  }

  /** Lookups serve the session's own purpose (resolving names for a create, sweeping for drift). */
  private readPriority(): CallPriority {
    return this.options.priority;
  }

  /**
   * A create's status frees one of the instance's 10 create slots, so it is as urgent as creating;
   * a delete's status only confirms access already being removed, so it waits behind the deletes.
   */
  private statusPriority(kind: OperationKind): CallPriority {
    if (this.options.priority === "drift") return "drift";
    return kind === "create" ? "provision" : "poll";
  }

  // The SDK's Command is generic over every client's input and output union and its resolved
  // config; `any` in those positions is how @smithy/types itself accepts "a command of this client".
  /* eslint-disable @typescript-eslint/no-explicit-any */
  private sso<Input extends object, Output extends object>(
    command: Command<any, Input, any, Output, any>,
    priority: CallPriority,
    onSent?: () => void,
  ): Promise<Output> {
    return this.options.clients.ssoAdmin.send(this.limited(command, priority, onSent) as never) as Promise<Output>;
  }

  /** A paginator's settings: each page's command is limited like any other call of this priority. */
  private paging(priority: CallPriority): SSOAdminPaginationConfiguration {
    return { client: this.options.clients.ssoAdmin, withCommand: (command) => this.limited(command, priority) };
  }

  private limited<C extends Command<any, any, any, any, any>>(command: C, priority: CallPriority, onSent?: () => void): C {
    command.middlewareStack.addRelativeTo(this.limit(command.constructor.name.replace(/Command$/, ""), priority, onSent), LIMIT_STEP);
    return command;
  }

  /** Per attempt: wait for the instance's rate limit, then send, counting what AWS answered. */
  private limit(operation: string, priority: CallPriority, onSent?: () => void): FinalizeRequestMiddleware<any, any> {
    /* eslint-enable @typescript-eslint/no-explicit-any */
    const { limiter, instanceArn, metrics, tenant } = this.options;
    return (next) => async (args) => {
      await limiter.acquire(instanceArn, priority, tenant);
      onSent?.();
      try {
        const result = await next(args);
        metrics?.awsCalls.inc({ operation, outcome: "ok" });
        return result;
      } catch (error) {
        const name = (error as { name?: string }).name ?? "Error";
        metrics?.awsCalls.inc({ operation, outcome: name });
        if (name === "ThrottlingException" || name === "TooManyRequestsException") metrics?.awsThrottles.inc({ operation });
        throw error;
      }
    };
  }
}

/** Inside the retry loop: each attempt, not each logical call, is one request AWS counts. */
const LIMIT_STEP = { name: "jitsudoRateLimit", relation: "after", toMiddleware: "retryMiddleware", override: true } as const;

/** Every page of a listing of assignments (both listings answer in the same shape). */
async function collectAssignments(
  pages: AsyncIterable<{
    AccountAssignments?: { AccountId?: string; PermissionSetArn?: string; PrincipalId?: string; PrincipalType?: string }[];
  }>,
): Promise<Assignment[]> {
  const found: Assignment[] = [];
  for await (const page of pages) {
    for (const item of page.AccountAssignments ?? []) {
      if (item.AccountId && item.PermissionSetArn && item.PrincipalId && item.PrincipalType) {
        found.push({
          accountId: item.AccountId,
          permissionSetArn: item.PermissionSetArn,
          principalType: item.PrincipalType as PrincipalType,
          principalId: item.PrincipalId,
        });
      }
    }
  }
  return found;
}

/** Each page of a paginator, as `project` reads it. */
async function* mapPages<Page, Out>(pages: AsyncIterable<Page>, project: (page: Page) => Out): AsyncGenerator<Out> {
  for await (const page of pages) yield project(page);
}

/** DescribePermissionSet's answer as jitsudo keeps it; the session duration only when AWS gave one. */
function permissionSetOf(arn: string, described: { Name?: string; SessionDuration?: string } | undefined): PermissionSet {
  return { arn, name: described?.Name ?? "", ...(described?.SessionDuration ? { sessionDuration: described.SessionDuration } : {}) };
}

function toStatus(status: AccountAssignmentOperationStatus | undefined): OperationStatus {
  if (!status?.RequestId || !status.Status) throw new Error("Identity Center answered without a request id or status");
  return {
    requestId: status.RequestId,
    status: status.Status,
    ...(status.FailureReason ? { failureReason: status.FailureReason } : {}),
  };
}

/**
 * Notes when the raw answer to `command` arrives (innermost in the deserialize step: after the
 * HTTP handler, before the SDK parses the body), so its age can be told when the call returns.
 */
function answerArrival(command: CreateAccountAssignmentCommand): { msAgo(): number } {
  let arrived: number | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      arrived = performance.now();
      return result;
    },
    { step: "deserialize", priority: "low", name: "jitsudoAnswerArrival" },
  );
  return { msAgo: () => (arrived === undefined ? 0 : performance.now() - arrived) };
}

/**
 * What every call passes before its operation runs, in this order: authorisation, the rate limit,
 * then fault injection. A call refused here has no effect on the state.
 */
import type { Caller, Service, ServiceRequest } from "./context.js";
import { AwsError } from "./errors.js";
import type { FaultInjector } from "./faults.js";
import { SERVICES } from "./services.js";
import type { SandboxState } from "./state.js";
import { TokenBucket } from "./token-bucket.js";

// Bucket keys that cannot collide with instance ARNs.
const ORGANIZATIONS_BUCKET = "organizations";
/** Calls that name no known instance (ListInstances, unknown ARNs) still count, against a bucket of their own. */
const UNSCOPED_BUCKET = "unscoped";

export interface FrontDoorOptions {
  requestsPerSecond: number;
  requireAssumedRole: boolean;
  faults: FaultInjector;
}

export class FrontDoor {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly state: SandboxState,
    private readonly options: FrontDoorOptions,
  ) {}

  /** Throws the error to answer with, or returns when the operation may run. */
  admit(request: ServiceRequest, caller: Caller, now: number): void {
    const instanceArn = this.instanceNamedBy(request);
    this.authorize(request, caller, instanceArn, now);
    this.rateLimit(request.service, instanceArn, now);
    this.injectFault(request.service, request.operation);
  }

  /** The instances a caller may see: its role's trusted instances, or all (undefined). */
  visibleInstances(caller: Caller): ReadonlySet<string> | undefined {
    return caller.session ? this.state.roles.get(caller.session.roleArn)?.trustedInstances : undefined;
  }

  /** The known instance a call is about, from its InstanceArn or IdentityStoreId. */
  private instanceNamedBy(request: ServiceRequest): string | undefined {
    const member = request.service === "sso-admin" ? "InstanceArn" : request.service === "identitystore" ? "IdentityStoreId" : undefined;
    if (member === undefined || !Object.hasOwn(request.input, member)) return undefined;
    const value = request.input[member];
    if (typeof value !== "string") return undefined;
    if (request.service === "identitystore") return this.state.instancesByIdentityStore.get(value)?.instanceArn;
    return this.state.instances.has(value) ? value : undefined;
  }

  private authorize(request: ServiceRequest, caller: Caller, instanceArn: string | undefined, now: number): void {
    // STS is where credentials come from; it takes whatever the caller signs with.
    if (request.service === "sts") return;
    const { accessDenied, actionPrefix } = SERVICES[request.service];
    const { session } = caller;
    if (session && session.sessionToken !== request.sessionToken) {
      throw new AwsError(accessDenied, "The security token included in the request is invalid");
    }
    if (this.options.requireAssumedRole) {
      if (!session) {
        throw new AwsError(
          accessDenied,
          `Access key ${request.accessKeyId ?? "(none)"} was not issued by AssumeRole on this simulator, and requireAssumedRole is on`,
        );
      }
      // Checked only here: without requireAssumedRole a test may run the clock far ahead of the SDK's own view of expiry.
      if (session.expiresAt <= now) throw new AwsError("ExpiredTokenException", "The security token included in the request is expired");
    }
    const role = session ? this.state.roles.get(session.roleArn) : undefined;
    const action = `${actionPrefix}:${request.operation}`;
    if (session && role?.deniedActions.has(action)) {
      throw new AwsError(
        accessDenied,
        `User: ${session.assumedRoleArn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
      );
    }
    const trusted = this.visibleInstances(caller);
    if (session && trusted && instanceArn !== undefined && !trusted.has(instanceArn)) {
      throw new AwsError(
        accessDenied,
        `User: ${session.assumedRoleArn} is not authorized to perform: ${actionPrefix}:${request.operation} on resource: ${instanceArn}`,
      );
    }
  }

  private rateLimit(service: Service, instanceArn: string | undefined, now: number): void {
    if (service === "sts" || this.options.requestsPerSecond === Infinity) return;
    const key = service === "organizations" ? ORGANIZATIONS_BUCKET : (instanceArn ?? UNSCOPED_BUCKET);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.options.requestsPerSecond, now);
      this.buckets.set(key, bucket);
    }
    if (!bucket.tryTake(now)) throw new AwsError(SERVICES[service].throttled, "Rate exceeded");
  }

  /** Faults hit Identity Center's mutating and describe calls; conflicts only the mutating ones. */
  private injectFault(service: Service, operation: string): void {
    if (service !== "sso-admin" && service !== "identitystore") return;
    const mutating = operation.startsWith("Create") || operation.startsWith("Delete");
    if ((!mutating && !operation.startsWith("Describe")) || !this.options.faults.targets(operation)) return;
    switch (this.options.faults.drawRequestFault(mutating)) {
      case "throttle":
        throw new AwsError("ThrottlingException", "Rate exceeded (fault injected by the simulator)");
      case "conflict":
        throw new AwsError("ConflictException", "Another operation is in progress on this resource (fault injected by the simulator)");
      case "serverError":
        throw new AwsError("InternalServerException", "Internal server error (fault injected by the simulator)");
      case undefined:
        return;
    }
  }
}

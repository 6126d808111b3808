/**
 * From a grant's recorded AWS settings to a ready IdentityCenter: which instance and region, under
 * which role session, sharing which rate limiter. One place decides, so provisioning, revoking and
 * drift always talk to a tenant the same way.
 *
 * The AWS SDK's own configuration applies: the default credential chain for jitsudo's identity,
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SSO_ADMIN` / … for VPC endpoints or the local Identity
 * Center, `AWS_MAX_ATTEMPTS` for the standard retry strategy.
 */
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { paginateListInstances, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { externalIdFor, RoleSessions, sessionName } from "./credentials.js";
import type { Metrics } from "../observability/metrics.js";
import type { IdentityCenter } from "./identity-center.js";
import type { CallPriority, RateLimiter } from "./rate-limiter.js";
import { SdkIdentityCenter, type SdkClients } from "./sdk-identity-center.js";

/** Where a tenant's grants are provisioned: the tenant config as approved, then the deployment's defaults. */
export interface AwsTarget {
  tenant: string;
  /** GitHub's repository id the grant came from; the role's ExternalId names it (absent for grants approved before it did). */
  repositoryId?: string;
  region: string;
  instanceArn: string;
  identityStoreId?: string;
  /** Unset: jitsudo's own credentials act directly (a single-tenant deployment in the same account). */
  roleArn?: string;
}

export interface AwsDefaults {
  region?: string;
  instanceArn?: string;
}

export type TargetResult = { ok: true; target: AwsTarget } | { ok: false; problem: string };

export function resolveTarget(
  recorded: {
    tenant: string;
    repository_id: string | null;
    aws_region: string | null;
    instance_arn: string | null;
    identity_store_id: string | null;
    aws_role_arn: string | null;
  },
  defaults: AwsDefaults,
): TargetResult {
  const instanceArn = recorded.instance_arn ?? defaults.instanceArn;
  if (!instanceArn) {
    return {
      ok: false,
      problem: "no Identity Center instance: set aws.instance_arn in .github/jitsudo.yml or IC_INSTANCE_ARN for the deployment",
    };
  }
  const region = recorded.aws_region ?? defaults.region;
  if (!region) return { ok: false, problem: "no AWS region: set aws.region in .github/jitsudo.yml or AWS_REGION for the deployment" };
  return {
    ok: true,
    target: {
      tenant: recorded.tenant,
      ...(recorded.repository_id !== null ? { repositoryId: String(recorded.repository_id) } : {}),
      region,
      instanceArn,
      ...(recorded.identity_store_id ? { identityStoreId: recorded.identity_store_id } : {}),
      ...(recorded.aws_role_arn ? { roleArn: recorded.aws_role_arn } : {}),
    },
  };
}

export interface ConnectionOptions {
  limiter: RateLimiter;
  /** Overrides every service's endpoint (tests and the demo); production uses the SDK's variables. */
  endpoint?: string;
  /** Static credentials for jitsudo's own identity (tests); default: the SDK's credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
  /** Sessions (and their clients) kept warm. */
  maxSessions?: number;
  metrics?: Metrics;
}

export class AwsConnections {
  private readonly sessions: RoleSessions;
  private readonly stsClients = new Map<string, STSClient>();
  private readonly clients = new Map<string, SdkClients>();
  private readonly identityStores = new Map<string, Promise<string>>();
  private readonly maxSessions: number;

  constructor(private readonly options: ConnectionOptions) {
    this.maxSessions = options.maxSessions ?? 200;
    this.sessions = new RoleSessions((region) => this.sts(region), { maxSessions: this.maxSessions });
  }

  /**
   * The Identity Center of a target, for one purpose (`grant-<id>`, `drift`) that names the role
   * session, at the priority its calls deserve.
   */
  async connect(target: AwsTarget, purpose: string, priority: CallPriority): Promise<IdentityCenter> {
    const clients = this.clientsFor(target, sessionName(purpose));
    const identityStoreId = target.identityStoreId ?? (await this.identityStoreOf(target, clients));
    return new SdkIdentityCenter({
      clients,
      instanceArn: target.instanceArn,
      identityStoreId,
      caller: this.callerOf(target),
      limiter: this.options.limiter,
      tenant: target.repositoryId ?? `installation-${target.tenant}`,
      priority,
      ...(this.options.metrics ? { metrics: this.options.metrics } : {}),
    });
  }

  /**
   * Who jitsudo's own credentials are (STS GetCallerIdentity, which needs no permission and spends
   * none of Identity Center's rate): resolves when they resolve and AWS accepts them, for the
   * worker's readiness. Tenant roles are assumed with these credentials, so nothing works without.
   */
  async ownIdentity(region: string, signal?: AbortSignal): Promise<string> {
    // Bounded: a call that hangs must neither keep an old answer standing nor hold up a shutdown.
    const abortSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000);
    const answer = await this.sts(region).send(new GetCallerIdentityCommand({}), { abortSignal });
    return answer.Arn ?? "an identity without an ARN";
  }

  /** Whose session answers for a target: region, and the role with its ExternalId (or jitsudo's own identity). */
  private callerOf(target: AwsTarget): string {
    return `${target.region}|${target.roleArn ? `${target.roleArn}|${externalIdFor(target.tenant, target.repositoryId)}` : "jitsudo"}`;
  }

  close(): void {
    this.options.limiter.close?.();
    for (const clients of this.clients.values()) destroy(clients);
    for (const sts of this.stsClients.values()) sts.destroy();
    this.clients.clear();
    this.stsClients.clear();
  }

  private clientsFor(target: AwsTarget, session: string): SdkClients {
    const externalId = externalIdFor(target.tenant, target.repositoryId);
    const key = `${target.region}|${target.roleArn ?? ""}|${target.roleArn ? `${externalId}|${session}` : ""}`;
    const found = this.clients.get(key);
    if (found) {
      this.clients.delete(key);
      this.clients.set(key, found);
      return found;
    }
    const credentials = target.roleArn
      ? this.sessions.provider({ roleArn: target.roleArn, externalId, sessionName: session }, target.region)
      : this.options.credentials;
    const common = {
      ...(credentials ? { credentials } : {}),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      ...(this.options.maxAttempts ? { maxAttempts: this.options.maxAttempts } : {}),
    };
    const clients: SdkClients = {
      ssoAdmin: new SSOAdminClient({ region: target.region, ...common }),
      identityStore: new IdentitystoreClient({ region: target.region, ...common }),
      // Organizations is global: its endpoint signs for us-east-1.
      organizations: new OrganizationsClient({ region: "us-east-1", ...common }),
    };
    this.clients.set(key, clients);
    while (this.clients.size > this.maxSessions) {
      const oldest = this.clients.keys().next().value!;
      destroy(this.clients.get(oldest)!);
      this.clients.delete(oldest);
    }
    return clients;
  }

  private sts(region: string): STSClient {
    let client = this.stsClients.get(region);
    if (!client) {
      client = new STSClient({
        region,
        ...(this.options.credentials ? { credentials: this.options.credentials } : {}),
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      });
      this.stsClients.set(region, client);
    }
    return client;
  }

  /** The instance's identity store, when the tenant config does not name it (needs sso:ListInstances). */
  private identityStoreOf(target: AwsTarget, clients: SdkClients): Promise<string> {
    // Per caller too: what ListInstances answers is whatever the asking role's account holds.
    const key = `${this.callerOf(target)}|${target.instanceArn}`;
    let pending = this.identityStores.get(key);
    if (!pending) {
      pending = (async () => {
        for await (const page of paginateListInstances({ client: clients.ssoAdmin }, {})) {
          const instance = page.Instances?.find((candidate) => candidate.InstanceArn === target.instanceArn);
          if (instance?.IdentityStoreId) return instance.IdentityStoreId;
        }
        throw new Error(`Identity Center instance ${target.instanceArn} was not found; check aws.instance_arn or IC_INSTANCE_ARN`);
      })();
      pending.catch(() => this.identityStores.delete(key));
      this.identityStores.set(key, pending);
    }
    return pending;
  }
}

function destroy(clients: SdkClients): void {
  clients.ssoAdmin.destroy();
  clients.identityStore.destroy();
  clients.organizations.destroy();
}

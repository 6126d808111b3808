/**
 * Role sessions for tenants. Before touching a tenant's Identity Center, jitsudo assumes the
 * tenant's role with an ExternalId that jitsudo derives from the GitHub App installation: a tenant
 * cannot choose it, so one tenant cannot point jitsudo at another tenant's role. The session name
 * names the grant (`jitsudo-<grant id>`), so CloudTrail shows which grant each call was for.
 *
 * Credentials are cached per (role, session) and refreshed five minutes before they expire, with
 * one AssumeRole in flight per session however many calls wait for it.
 */
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

export interface RoleSession {
  roleArn: string;
  externalId: string;
  sessionName: string;
}

/**
 * ExternalId of a tenant's role sessions, fixed by jitsudo and documented for trust policies:
 * `jitsudo-<installation id>-<repository id>`. Naming the repository (by id, which survives renames
 * and is never reused) means AWS itself refuses a session for any other repository of the same
 * installation. Grants approved before the repository was recorded keep the installation-only form,
 * so their revokes still work while the trust policy lists both.
 */
export function externalIdFor(installationId: number | string, repositoryId?: number | string): string {
  return repositoryId === undefined ? `jitsudo-${installationId}` : `jitsudo-${installationId}-${repositoryId}`;
}

const SESSION_NAME = /[^\w+=,.@-]/g;

/** A RoleSessionName AWS accepts (2-64 characters of [\w+=,.@-]) that still reads as what it is. */
export function sessionName(purpose: string): string {
  const cleaned = `jitsudo-${purpose}`.replace(SESSION_NAME, "-").slice(0, 64);
  return cleaned.length >= 2 ? cleaned : "jitsudo";
}

export interface AssumeRoleOptions {
  /** Requested lifetime: AWS's minimum, 15 minutes, is plenty for one grant's step. */
  durationSeconds?: number;
  refreshBeforeMs?: number;
  maxSessions?: number;
  now?: () => number;
}

interface Cached {
  credentials?: AwsCredentialIdentity;
  pending?: Promise<AwsCredentialIdentity>;
}

export class RoleSessions {
  private readonly cache = new Map<string, Cached>();
  private readonly durationSeconds: number;
  private readonly refreshBeforeMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;

  constructor(
    private readonly sts: (region: string) => STSClient,
    options: AssumeRoleOptions = {},
  ) {
    this.durationSeconds = options.durationSeconds ?? 900;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.maxSessions = options.maxSessions ?? 1000;
    this.now = options.now ?? Date.now;
  }

  provider(session: RoleSession, region: string): AwsCredentialIdentityProvider {
    return () => this.credentials(session, region);
  }

  async credentials(session: RoleSession, region: string): Promise<AwsCredentialIdentity> {
    const key = `${region}|${session.roleArn}|${session.externalId}|${session.sessionName}`;
    const cached = this.cache.get(key) ?? {};
    const expiresAt = cached.credentials?.expiration?.getTime() ?? 0;
    if (cached.credentials && expiresAt - this.refreshBeforeMs > this.now()) return cached.credentials;
    if (cached.pending) return cached.pending;

    cached.pending = this.assume(session, region).finally(() => {
      delete cached.pending;
    });
    this.remember(key, cached);
    cached.credentials = await cached.pending;
    return cached.credentials;
  }

  private async assume(session: RoleSession, region: string): Promise<AwsCredentialIdentity> {
    const output = await this.sts(region).send(
      new AssumeRoleCommand({
        RoleArn: session.roleArn,
        RoleSessionName: session.sessionName,
        ExternalId: session.externalId,
        DurationSeconds: this.durationSeconds,
      }),
    );
    const credentials = output.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey)
      throw new Error(`AssumeRole of ${session.roleArn} returned no credentials`);
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiration: new Date(credentials.Expiration) } : {}),
    };
  }

  /** Keeps the most recently used sessions; a grant's session is not needed once its step is done. */
  private remember(key: string, entry: Cached): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.maxSessions) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}

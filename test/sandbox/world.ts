/**
 * Shared set-up for the simulator's tests: a server with a small world in it (one instance, a
 * permission set, accounts, users) and real AWS SDK clients pointed at it.
 */
import { IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import {
  startLocalIdentityCenter,
  type LocalIdentityCenterServerOptions,
  type RunningLocalIdentityCenter,
} from "../../src/sandbox/index.js";

export const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1111111111111111";
export const IDENTITY_STORE_ID = "d-1111111111";
export const ACCOUNT = "111111111111";
export const OTHER_ACCOUNT = "222222222222";
export const SUSPENDED_ACCOUNT = "333333333333";
/** Well-formed, but not in the organisation. */
export const UNKNOWN_ACCOUNT = "999999999999";

/** A clock that moves only when told to, so asynchronous completion is exact. */
export class FakeClock {
  constructor(public time = Date.now()) {}
  readonly now = (): number => this.time;
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Fixed keys, as the SDK clients take them (not a provider function). */
export type Credentials = AwsCredentialIdentity;

export const BASE_CREDENTIALS: Credentials = { accessKeyId: "AKIDLOCALTEST", secretAccessKey: "not-a-secret" };

export interface Clients {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
  organizations: OrganizationsClient;
  sts: STSClient;
  destroy(): void;
}

/** Real SDK clients for the simulator; one attempt by default so tests see every error the server sends. */
export function clientsFor(url: string, options: { maxAttempts?: number; credentials?: Credentials } = {}): Clients {
  const config = {
    region: "us-east-1",
    endpoint: url,
    credentials: options.credentials ?? BASE_CREDENTIALS,
    maxAttempts: options.maxAttempts ?? 1,
  };
  const clients = {
    ssoAdmin: new SSOAdminClient(config),
    identityStore: new IdentitystoreClient(config),
    organizations: new OrganizationsClient(config),
    sts: new STSClient(config),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((client) => client.destroy()) };
}

export interface World extends RunningLocalIdentityCenter {
  clock: FakeClock;
  clients: Clients;
  permissionSetArn: string;
  alice: string;
  bob: string;
  close(): Promise<void>;
}

/** A simulator on a fake clock with one instance, a permission set, three accounts and two users. */
export async function startWorld(options: LocalIdentityCenterServerOptions = {}): Promise<World> {
  const clock = new FakeClock();
  const running = await startLocalIdentityCenter({ now: clock.now, requestsPerSecond: Infinity, ...options });
  const { ic } = running;
  ic.addInstance({ instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID, ownerAccountId: ACCOUNT });
  const permissionSetArn = ic.addPermissionSet(INSTANCE_ARN, { name: "ReadOnly", description: "Read only" });
  ic.addAccount({ id: ACCOUNT, name: "production" });
  ic.addAccount({ id: OTHER_ACCOUNT, name: "staging" });
  ic.addAccount({ id: SUSPENDED_ACCOUNT, name: "old", status: "SUSPENDED" });
  const alice = ic.addUser(IDENTITY_STORE_ID, { userName: "alice", email: "alice@example.com" });
  const bob = ic.addUser(IDENTITY_STORE_ID, { userName: "bob" });
  const clients = clientsFor(running.url);
  return {
    ...running,
    clock,
    clients,
    permissionSetArn,
    alice,
    bob,
    close: async () => {
      clients.destroy();
      await running.stop();
    },
  };
}

/** What a failed SDK call threw: its error name and HTTP status. */
export async function failure(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to fail");
}

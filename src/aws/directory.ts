/**
 * Names to ids, cached: request files say `alice@example.com`, `Production` and
 * `AdministratorAccess`; Identity Center wants a user id, a 12-digit account id and a permission
 * set ARN. Lookups are shared by every grant seen through the same view for a few minutes (one
 * ListAccounts or ListPermissionSets answers hundreds of grants), with one lookup in flight per
 * key. A name that is not found refreshes its list once, so something created a minute ago is
 * still found.
 *
 * The view (`IdentityCenter.view`: instance, identity store, region and the role session's
 * identity) is part of every key: the answers come from whoever asked, and one tenant's role or
 * config (an identity store of its choosing, an organisation of its own) must never decide what
 * another tenant's names resolve to, or that they do not exist.
 *
 * Session durations (read before every create, to say when access truly ends and to enforce a
 * rule's `max_session_duration`) are cached per view and permission set for a shorter time: one
 * DescribePermissionSet per permission set every few minutes at most, however many grants are
 * provisioned or repaired, while a session duration an admin raises is seen within minutes.
 */
import type { IdentityCenter, PermissionSet } from "./identity-center.js";
import { readSessionDuration, type SessionDurationReading } from "./session-duration.js";

/** How long a permission set's session duration is trusted before it is read again. */
export const SESSION_DURATION_TTL_MS = 5 * 60_000;

export const ACCOUNT_ID = /^\d{12}$/;
const PERMISSION_SET_ARN = /^arn:aws[a-z-]*:sso:::permissionSet\//;

export type Resolution = { ok: true; id: string } | { ok: false; problem: string };

interface Entry<T> {
  value: Promise<T>;
  at: number;
}

class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, load: () => Promise<T>, options: { maxAgeMs?: number } = {}): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && this.now() - entry.at < Math.min(this.ttlMs, options.maxAgeMs ?? Infinity)) return entry.value;
    const value = load();
    this.entries.set(key, { value, at: this.now() });
    // A failed lookup is not remembered: the next caller asks again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

export interface DirectoryOptions {
  ttlMs?: number;
  /** How long a session duration is kept (default SESSION_DURATION_TTL_MS). */
  sessionDurationTtlMs?: number;
  /** A name not found in a list older than this makes the list be read again. */
  refreshMissAfterMs?: number;
  now?: () => number;
}

export class Directory {
  private readonly users: TtlCache<string | undefined>;
  private readonly accountLists: TtlCache<{ id: string; name: string; status: string }[]>;
  private readonly permissionSetLists: TtlCache<PermissionSet[]>;
  private readonly permissionSetsByArn: TtlCache<PermissionSet | undefined>;
  private readonly refreshMissAfterMs: number;

  constructor(options: DirectoryOptions = {}) {
    const ttl = options.ttlMs ?? 10 * 60_000;
    const now = options.now ?? Date.now;
    this.users = new TtlCache(ttl, now);
    this.accountLists = new TtlCache(ttl, now);
    this.permissionSetLists = new TtlCache(ttl, now);
    this.permissionSetsByArn = new TtlCache(options.sessionDurationTtlMs ?? SESSION_DURATION_TTL_MS, now);
    this.refreshMissAfterMs = options.refreshMissAfterMs ?? 60_000;
  }

  /**
   * The permission set's session duration in seconds, as this view's Identity Center answers it
   * (cached for a few minutes; a failed read is not cached, and throws for the caller to retry).
   */
  async sessionDuration(ic: IdentityCenter, permissionSetArn: string): Promise<SessionDurationReading> {
    const described = await this.permissionSetsByArn.get(`${ic.view}|${permissionSetArn}`, () =>
      ic.describePermissionSet(permissionSetArn),
    );
    if (!described)
      return { ok: false, problem: "Identity Center no longer has this permission set, so its session duration cannot be read" };
    return readSessionDuration(described.sessionDuration, described.name || permissionSetArn);
  }

  async principalId(ic: IdentityCenter, userName: string): Promise<Resolution> {
    const id = await this.users.get(`${ic.view}|${userName}`, () => ic.userId(userName));
    if (id) return { ok: true, id };
    return {
      ok: false,
      problem: `Identity Center has no user "${userName}"; map the GitHub login to the user's Identity Center user name under users: in .github/jitsudo.yml`,
    };
  }

  async accountId(ic: IdentityCenter, ref: string): Promise<Resolution> {
    if (ACCOUNT_ID.test(ref)) return { ok: true, id: ref };
    const find = async (maxAgeMs?: number) => {
      const accounts = await this.accountLists.get(ic.view, () => ic.accounts(), maxAgeMs === undefined ? {} : { maxAgeMs });
      return accounts.filter((account) => account.name === ref);
    };
    let matches = await find();
    if (matches.length === 0) matches = await find(this.refreshMissAfterMs);
    if (matches.length === 1) return { ok: true, id: matches[0]!.id };
    if (matches.length > 1)
      return {
        ok: false,
        problem: `${matches.length} accounts are named "${ref}" (${matches.map((account) => account.id).join(", ")}); write the 12-digit account id instead`,
      };
    return { ok: false, problem: `the organisation has no account named "${ref}"; write its exact name or its 12-digit id` };
  }

  async permissionSetArn(ic: IdentityCenter, ref: string): Promise<Resolution> {
    if (PERMISSION_SET_ARN.test(ref)) return { ok: true, id: ref };
    const find = async (maxAgeMs?: number) => {
      const sets = await this.permissionSetLists.get(ic.view, () => ic.permissionSets(), maxAgeMs === undefined ? {} : { maxAgeMs });
      return sets.find((set) => set.name === ref);
    };
    const found = (await find()) ?? (await find(this.refreshMissAfterMs));
    if (found) return { ok: true, id: found.arn };
    return { ok: false, problem: `Identity Center instance ${ic.instanceArn} has no permission set named "${ref}"` };
  }

  /** The name of a permission set of this instance, by ARN; undefined when the instance has none with that ARN. */
  async permissionSetName(ic: IdentityCenter, arn: string): Promise<string | undefined> {
    const find = async (maxAgeMs?: number) => {
      const sets = await this.permissionSetLists.get(ic.view, () => ic.permissionSets(), maxAgeMs === undefined ? {} : { maxAgeMs });
      return sets.find((set) => set.arn === arn)?.name;
    };
    return (await find()) ?? (await find(this.refreshMissAfterMs));
  }

  /** Account id → name for the whole organisation (cached), to match policy rules that name accounts. */
  async accountNames(ic: IdentityCenter): Promise<Map<string, string>> {
    const accounts = await this.accountLists.get(ic.view, () => ic.accounts());
    return new Map(accounts.map((account) => [account.id, account.name]));
  }

  /** Every permission set of the instance (cached), for drift to map names to ARNs. */
  permissionSets(ic: IdentityCenter): Promise<PermissionSet[]> {
    return this.permissionSetLists.get(ic.view, () => ic.permissionSets());
  }
}

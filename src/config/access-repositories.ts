/**
 * Which repositories may grant: those the operator lists in JITSUDO_ACCESS_REPOSITORIES, each bound
 * to the repository GitHub first showed under that name.
 *
 * The list may name a repository by its numeric id (rename-proof), or by `owner/name`. Names are
 * what operators write, but names move: when `acme/access` is renamed, anyone who may
 * create repositories can create a new `acme/access`, write a policy without `aws.role_arn` (so
 * jitsudo's own credentials would act) and CODEOWNERS naming a friend. So the first time a listed
 * name is seen, its repository id is pinned in the database; a different repository under that
 * name is refused until the operator removes the pin (see the README). Pins never move: a renamed
 * repository gets a pin for its new name as well, and keeps its old one.
 *
 * Without a list, every repository may record merges (AWS's trust policy, whose ExternalId names
 * the repository by id, is then what stops the others), and jitsudo's own credentials serve none.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { isListedById, isListedRepository } from "./env.js";

export interface RepositoryIdentity {
  id: number | string;
  fullName: string;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: "not-listed" | "name-taken-by-another-repository" };

export class AccessRepositories {
  constructor(
    readonly list: readonly string[] | undefined,
    private readonly db?: Knex,
    /** IC_INSTANCE_ARN: the one instance jitsudo's own credentials act on (unknown to an API-only server). */
    readonly ownInstanceArn?: string,
  ) {}

  /** Whether the operator keeps a list at all. */
  get restricted(): boolean {
    return this.list !== undefined;
  }

  /** May this repository record merges and grant? Pins a listed name to its repository on first sight. */
  async decide(repository: RepositoryIdentity): Promise<AccessDecision> {
    if (this.list === undefined) return { allowed: true };
    const byId = isListedById(this.list, repository.id);
    const byName = isListedRepository(this.list, repository.fullName);
    if (!byId && !byName) return { allowed: false, reason: "not-listed" };
    if (!this.db) return { allowed: true };
    // A listed name is pinned even when the repository is listed by id: once it is renamed, a new
    // repository taking the name must not inherit the name's trust.
    const pinned = byName ? await this.pin(repository.fullName.toLowerCase(), String(repository.id)) : true;
    if (pinned || byId) return { allowed: true };
    return { allowed: false, reason: "name-taken-by-another-repository" };
  }

  /**
   * Binds `name` to `id` if nobody holds it; true when the name is (now) this repository's. A pin
   * never moves: a renamed repository gets a pin for its new name too, and its old name stays its own.
   */
  private async pin(name: string, id: string): Promise<boolean> {
    return this.db!.transaction(async (trx) => {
      // Serialises first sightings of a name across replicas.
      await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:access-repository'), hashtext(?))", [name]);
      const held = await rowsAs<{ repository_id: string } | undefined>(trx("access_repository_pins").where({ full_name: name }).first());
      if (held) return String(held.repository_id) === id;
      await trx("access_repository_pins").insert({ full_name: name, repository_id: id });
      return true;
    });
  }

  async allows(repository: RepositoryIdentity): Promise<boolean> {
    return (await this.decide(repository)).allowed;
  }

  /**
   * Whether jitsudo's own credentials may act for a grant of this repository: only for a listed,
   * pinned repository (by id), or, for a grant recorded before ids were kept, a listed name.
   */
  async ownCredentialsServe(repository: { id: number | string | null; fullName: string }): Promise<boolean> {
    if (this.list === undefined) return false;
    if (isListedById(this.list, repository.id)) return true;
    if (repository.id === null || !this.db) return isListedRepository(this.list, repository.fullName);
    // Any listed name pinned to this repository (it may have been renamed since the grant was recorded).
    const pins = await rowsAs<{ full_name: string }[]>(
      this.db("access_repository_pins")
        .where({ repository_id: String(repository.id) })
        .select("full_name"),
    );
    if (pins.some((pin) => isListedRepository(this.list, pin.full_name))) return true;
    return pins.length === 0 && this.allows({ id: repository.id, fullName: repository.fullName });
  }

  /**
   * Why jitsudo's own credentials may not act for this repository on this instance, if they may
   * not: only listed repositories, and only on the deployment's own instance (a role-less config
   * naming another instance would otherwise borrow jitsudo's reach to it). An instance that cannot
   * be compared (the API-only server does not know IC_INSTANCE_ARN) is left to the worker.
   */
  async ownCredentialsRefusal(
    repository: { id: number | string | null; fullName: string },
    instanceArn: string | undefined,
  ): Promise<string | undefined> {
    if (!(await this.ownCredentialsServe(repository))) {
      return "names no aws.role_arn, and jitsudo's own AWS credentials serve only the repositories listed in JITSUDO_ACCESS_REPOSITORIES";
    }
    if (instanceArn !== undefined && this.ownInstanceArn !== undefined && instanceArn !== this.ownInstanceArn) {
      return "names no aws.role_arn and an Identity Center instance other than the deployment's (IC_INSTANCE_ARN); jitsudo's own AWS credentials act only on the deployment's instance";
    }
    return undefined;
  }
}

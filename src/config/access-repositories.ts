/**
 * Which repositories may grant: those the operator lists in JITSUDO_ACCESS_REPOSITORIES, each bound
 * to the repository GitHub first showed under that name.
 *
 * The list may name a repository by its numeric id (rename-proof), or by `owner/name`. Names are
 * what operators write, but names move: when `acme/access` is renamed, anyone who may
 * create repositories can create a new `acme/access`, write a policy without `aws.role_arn` (so
 * jitsudo's own credentials would act) and CODEOWNERS naming a friend. So the first time a listed
 * name is seen, its repository id is pinned in the database; a different repository under that
 * name is refused until the operator removes the pin (see the README). A pinned repository that is
 * renamed keeps its pin, moved to the new name once the operator lists it.
 *
 * Without a list, every repository may record merges (AWS's trust policy, whose ExternalId names
 * the repository by id, is then what stops the others), and jitsudo's own credentials serve none.
 */
import type { Knex } from "knex";
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
  ) {}

  /** Whether the operator keeps a list at all. */
  get restricted(): boolean {
    return this.list !== undefined;
  }

  /** May this repository record merges and grant? Pins a listed name to its repository on first sight. */
  async decide(repository: RepositoryIdentity): Promise<AccessDecision> {
    if (this.list === undefined) return { allowed: true };
    // Listed by id: nothing a name can do changes that.
    if (isListedById(this.list, repository.id)) return { allowed: true };
    if (!isListedRepository(this.list, repository.fullName)) return { allowed: false, reason: "not-listed" };
    if (!this.db) return { allowed: true };
    const name = repository.fullName.toLowerCase();
    const id = String(repository.id);
    return this.db.transaction(async (trx) => {
      // Serialises first sightings of a name across replicas.
      await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:access-repository'), hashtext(?))", [name]);
      const byName = (await trx("access_repository_pins").where({ full_name: name }).first()) as { repository_id: string } | undefined;
      if (byName) return String(byName.repository_id) === id ? { allowed: true } : { allowed: false, reason: "name-taken-by-another-repository" };
      // Not seen under this name: the same repository renamed keeps its pin under the new name.
      const renamed = await trx("access_repository_pins").where({ repository_id: id }).update({ full_name: name, pinned_at: trx.fn.now() });
      if (renamed === 0) await trx("access_repository_pins").insert({ full_name: name, repository_id: id });
      return { allowed: true };
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
    const pin = (await this.db("access_repository_pins").where({ repository_id: String(repository.id) }).first()) as { full_name: string } | undefined;
    // Pinned: by the name it has now (it may have been renamed since the grant was recorded).
    if (pin) return isListedRepository(this.list, pin.full_name);
    return this.allows({ id: repository.id, fullName: repository.fullName });
  }
}

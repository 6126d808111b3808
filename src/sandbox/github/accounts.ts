/**
 * Who exists on the local GitHub: user, organization and bot accounts, teams with their members,
 * and what each account may do in each repository.
 *
 * Accounts are created on first mention, with stable ids, so tests just name people. A commit
 * links to an account only through its e-mail address (GitHub shows `author: null` in the API
 * when the address belongs to no account), so e-mails are registered here too.
 */
import type { Signature } from "./git-objects.js";

export type AccountType = "User" | "Organization" | "Bot";

export interface Account {
  login: string;
  id: number;
  type: AccountType;
  name: string;
  email: string;
}

/** Repository roles, weakest first (GitHub's base roles). */
export const ROLES = ["read", "triage", "write", "maintain", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type MembershipState = "active" | "pending";

export interface Team {
  org: string;
  slug: string;
  id: number;
  /** login (lower case) → membership state; a pending member has not accepted the invitation. */
  members: Map<string, MembershipState>;
  /** repository id → role the team has there. */
  repositories: Map<number, Role>;
  /** The parent team's slug, for a child team (GitHub's nested teams). */
  parent?: string;
}

/** The account GitHub commits merges and web edits as ("committed by GitHub"). */
export const WEB_FLOW = { login: "web-flow", name: "GitHub", email: "noreply@github.com", id: 19864447 } as const;

/** Who wrote a commit: a login (linked), null (an e-mail linked to no account), or in full. */
export type PersonSpec = string | null | { name: string; email: string; login: string | null };

export class Accounts {
  private readonly byLogin = new Map<string, Account>();
  private readonly byEmail = new Map<string, string>();
  private readonly teams = new Map<string, Team>();
  private nextId = 583231;

  constructor() {
    this.add(WEB_FLOW.login, "User", { id: WEB_FLOW.id, name: WEB_FLOW.name, email: WEB_FLOW.email });
  }

  /** The account of `login` (GitHub logins are case-insensitive), created as a user if unknown. */
  get(login: string, type: AccountType = "User"): Account {
    return this.byLogin.get(login.toLowerCase()) ?? this.add(login, type);
  }

  find(login: string): Account | undefined {
    return this.byLogin.get(login.toLowerCase());
  }

  add(login: string, type: AccountType, fields: Partial<Pick<Account, "id" | "name" | "email">> = {}): Account {
    if (this.byLogin.has(login.toLowerCase())) throw new Error(`account ${login} already exists`);
    const id = fields.id ?? this.nextId++;
    // GitHub's no-reply address: commits made with it link to the account.
    const account = { login, id, type, name: fields.name ?? login, email: fields.email ?? `${id}+${login}@users.noreply.github.com` };
    this.byLogin.set(login.toLowerCase(), account);
    this.byEmail.set(account.email.toLowerCase(), account.login);
    return account;
  }

  /** The login an e-mail address links to, if any. */
  loginForEmail(email: string): string | null {
    return this.byEmail.get(email.toLowerCase()) ?? null;
  }

  /** A commit signature at `date` for a person spec; a full spec's e-mail becomes linked to its login. */
  signature(person: PersonSpec, date: string): Signature {
    if (person === null) return { name: "Someone", email: "someone@unlinked.example", date, login: null };
    if (typeof person === "string") {
      const account = this.get(person);
      return { name: account.name, email: account.email, date, login: account.login };
    }
    if (person.login === null) {
      const linked = this.loginForEmail(person.email);
      if (linked) throw new Error(`${person.email} is linked to @${linked}; an unlinked author needs an address no account has`);
      return { name: person.name, email: person.email, date, login: null };
    }
    const account = this.get(person.login);
    this.byEmail.set(person.email.toLowerCase(), account.login);
    return { name: person.name, email: person.email, date, login: account.login };
  }

  team(org: string, slug: string): Team | undefined {
    return this.teams.get(`${org.toLowerCase()}/${slug.toLowerCase()}`);
  }

  /** Creates the team `org/slug` if it does not exist yet. */
  ensureTeam(org: string, slug: string): Team {
    const existing = this.team(org, slug);
    if (existing) return existing;
    this.get(org, "Organization");
    const team: Team = { org, slug, id: this.nextId++, members: new Map(), repositories: new Map() };
    this.teams.set(`${org.toLowerCase()}/${slug.toLowerCase()}`, team);
    return team;
  }

  /** Renames a team's slug, as an org owner can: the old slug then answers 404 everywhere. */
  renameTeam(org: string, slug: string, newSlug: string): Team {
    const team = this.team(org, slug);
    if (!team) throw new Error(`no team ${org}/${slug}`);
    if (this.team(org, newSlug)) throw new Error(`team ${org}/${newSlug} already exists`);
    this.teams.delete(`${org.toLowerCase()}/${slug.toLowerCase()}`);
    team.slug = newSlug;
    this.teams.set(`${org.toLowerCase()}/${newSlug.toLowerCase()}`, team);
    return team;
  }

  /** Makes `child` a child team of `parent` (both of `org`), as an org owner can; null makes it a top-level team again. */
  nestTeam(org: string, child: string, parent: string | null): void {
    const team = this.ensureTeam(org, child);
    if (parent === null) delete team.parent;
    else team.parent = this.ensureTeam(org, parent).slug;
  }

  /** The team's child teams (direct ones), in creation order. */
  childTeams(team: Team): Team[] {
    return this.allTeams().filter(
      (candidate) => candidate.org.toLowerCase() === team.org.toLowerCase() && candidate.parent?.toLowerCase() === team.slug.toLowerCase(),
    );
  }

  /**
   * A login's membership of a team as GitHub answers it: "Team members will include the members
   * of child teams", so a member of any descendant is a member; active wins over pending.
   */
  membership(team: Team, login: string): MembershipState | undefined {
    const states = [team, ...this.descendants(team)].map((candidate) => candidate.members.get(login.toLowerCase()));
    return states.includes("active") ? "active" : states.includes("pending") ? "pending" : undefined;
  }

  private descendants(team: Team, seen = new Set<Team>()): Team[] {
    return this.childTeams(team).flatMap((child) => (seen.has(child) ? [] : (seen.add(child), [child, ...this.descendants(child, seen)])));
  }

  allTeams(): Team[] {
    return [...this.teams.values()];
  }
}

export function strongerRole(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (!a) return b;
  if (!b) return a;
  return ROLES.indexOf(a) >= ROLES.indexOf(b) ? a : b;
}

export function canWrite(role: Role | undefined): boolean {
  return role === "write" || role === "maintain" || role === "admin";
}

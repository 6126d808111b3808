/**
 * Who the app is on GitHub: its id and the `<slug>[bot]` login its comments are written under.
 * Asked once per process (again if that failed), with the app's own JWT authentication.
 */
import type { ProbotOctokit } from "probot";

type Octokit = InstanceType<typeof ProbotOctokit>;

export interface AppIdentity {
  id: number;
  botLogin: string;
}

export function cachedAppIdentity(appAuth: () => Promise<Octokit>): () => Promise<AppIdentity> {
  let pending: Promise<AppIdentity> | undefined;
  return () => {
    pending ??= (async () => {
      const octokit = await appAuth();
      const { data } = await octokit.rest.apps.getAuthenticated();
      if (!data?.slug) throw new Error("GitHub did not return the app's slug");
      return { id: data.id, botLogin: `${data.slug}[bot]` };
    })().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

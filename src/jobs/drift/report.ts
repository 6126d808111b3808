/**
 * What one tenant's sweep did, counted as it goes: returned by the drift job (tests and the demo
 * read it), recorded in `drift_sweeps`, and counted in the metrics.
 */
import type { TenantScope } from "../drift-plan.js";

export interface SweepReport {
  instanceArn: string;
  repositoryId: string;
  ran: boolean;
  scopesChecked: number;
  calls: number;
  missing: number;
  unexpected: number;
  removed: number;
  resumed: number;
  completedRotation: boolean;
  /** Permission sets this tenant lists that another tenant already manages on the instance. */
  refusedClaims: { declaredAs: string; owner: string }[];
  /** Listed permission sets the instance does not have (as seen through the tenant's role). */
  unknownSets: string[];
  error?: string;
}

export function emptyReport(scope: TenantScope): SweepReport {
  return {
    instanceArn: scope.target.instanceArn,
    repositoryId: scope.repositoryId,
    ran: true,
    scopesChecked: 0,
    calls: 0,
    missing: 0,
    unexpected: 0,
    removed: 0,
    resumed: 0,
    completedRotation: false,
    refusedClaims: [],
    unknownSets: [],
  };
}

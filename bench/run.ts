/**
 * `npm run bench`: every benchmark, printing its figures. Run on an otherwise idle machine; quote
 * medians, the machines here are shared.
 */
import { benchCodeownersHostile } from "./codeowners-hostile.bench.js";
import { benchDrift } from "./drift.bench.js";
import { benchWorkerMemory } from "./memory.bench.js";
import { benchMergeVerdict } from "./merge-verdict.bench.js";
import { benchPullRequest } from "./pull-request.bench.js";
import { benchExpiryLag, benchMergeToCreate, benchProvisioningThroughput } from "./provisioning.bench.js";
import { benchSoak } from "./soak.bench.js";
import { printResult, type BenchResult } from "./stats.js";
import { benchValidate } from "./validate.bench.js";
import { benchWebhookBurst } from "./webhook-burst.bench.js";

const only = process.argv[2];
const benches: Record<string, () => BenchResult | Promise<BenchResult>> = {
  validate: benchValidate,
  "pull-request": benchPullRequest,
  "merge-verdict": benchMergeVerdict,
  "merge-to-create": benchMergeToCreate,
  "expiry-lag": benchExpiryLag,
  "provisioning-throughput": benchProvisioningThroughput,
  drift: benchDrift,
  "worker-memory": benchWorkerMemory,
  "codeowners-hostile": benchCodeownersHostile,
  "webhook-burst": benchWebhookBurst,
  soak: benchSoak,
};

for (const [name, bench] of Object.entries(benches)) {
  if (only && only !== name) continue;
  printResult(await bench());
}

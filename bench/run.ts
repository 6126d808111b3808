/**
 * `npm run bench`: every benchmark, printing its figures. Run on an otherwise idle machine; quote
 * medians, the machines here are shared.
 */
import { printResult, type BenchResult } from "./stats.js";

/**
 * Each benchmark's module is loaded only when it runs: some load nock (GitHub intercepted at HTTP),
 * which, once loaded, would sit in the path of every other benchmark's HTTP calls.
 */
const only = process.argv[2];
const benches: Record<string, () => Promise<BenchResult>> = {
  validate: async () => (await import("./validate.bench.js")).benchValidate(),
  "pull-request": async () => (await import("./pull-request.bench.js")).benchPullRequest(),
  "merge-verdict": async () => (await import("./merge-verdict.bench.js")).benchMergeVerdict(),
  "merge-to-create": async () => (await import("./provisioning.bench.js")).benchMergeToCreate(),
  "expiry-lag": async () => (await import("./provisioning.bench.js")).benchExpiryLag(),
  "provisioning-throughput": async () => (await import("./provisioning.bench.js")).benchProvisioningThroughput(),
  drift: async () => (await import("./drift.bench.js")).benchDrift(),
  "worker-memory": async () => (await import("./memory.bench.js")).benchWorkerMemory(),
  "codeowners-hostile": async () => (await import("./codeowners-hostile.bench.js")).benchCodeownersHostile(),
  "webhook-burst": async () => (await import("./webhook-burst.bench.js")).benchWebhookBurst(),
  soak: async () => (await import("./soak.bench.js")).benchSoak(),
  "audit-export": async () => (await import("./audit-export.bench.js")).benchAuditExport(),
};

for (const [name, bench] of Object.entries(benches)) {
  if (only && only !== name) continue;
  printResult(await bench());
}

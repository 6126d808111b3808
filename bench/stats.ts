export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface BenchResult {
  name: string;
  figures: Record<string, Summary | number | string>;
  target: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    n: sorted.length,
    min: round(sorted[0] ?? Number.NaN),
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

export function printResult(result: BenchResult): void {
  console.log(`\n## ${result.name}\n   target: ${result.target}`);
  for (const [key, value] of Object.entries(result.figures)) {
    if (typeof value === "object") {
      console.log(`   ${key}: p50 ${value.p50}  p95 ${value.p95}  p99 ${value.p99}  min ${value.min}  max ${value.max}  (n=${value.n})`);
    } else console.log(`   ${key}: ${value}`);
  }
}

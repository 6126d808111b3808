/**
 * The metric names a jitsudo process exports on /metrics, read from a real scrape of the metrics
 * every role registers (its own, the database gauges, and the process metrics), so the alerts,
 * the dashboard and the README can be checked against what Prometheus will really see.
 */
import type { Knex } from "knex";
import { registerDatabaseGauges } from "../../src/observability/database-gauges.js";
import { Metrics } from "../../src/observability/metrics.js";

/** Every series name a scrape can carry: a histogram `h` exports `h_bucket`, `h_sum` and `h_count`. */
export async function exportedMetricNames(db: Knex): Promise<Set<string>> {
  const metrics = Metrics.forProcess();
  registerDatabaseGauges(metrics, db);
  return metricNamesIn(await metrics.render());
}

/** The series names a Prometheus text exposition declares (its `# TYPE` lines). */
export function metricNamesIn(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!match) continue;
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

/**
 * The metric names a PromQL expression reads: identifiers that are not functions, keywords,
 * label names inside braces or by()/without() lists, or durations. Good enough for the
 * expressions jitsudo ships (checked against each in the tests), not a PromQL parser.
 */
export function metricNamesInPromql(expression: string): string[] {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const withoutBraces = withoutStrings.replace(/\{[^}]*\}/g, "{}");
  const withoutGrouping = withoutBraces.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const withoutRanges = withoutGrouping.replace(/\[[^\]]*\]/g, "[]");
  const names: string[] = [];
  for (const match of withoutRanges.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = match[0];
    const next = withoutRanges.slice(match.index + word.length).trimStart();
    if (next.startsWith("(")) continue; // a function call: rate(, sum(, histogram_quantile(
    if (PROMQL_WORDS.has(word)) continue;
    names.push(word);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
  "Inf",
  "NaN",
]);

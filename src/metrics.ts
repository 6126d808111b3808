/**
 * Prometheus metrics in the text exposition format, without a client library: counters,
 * histograms and gauges read at scrape time are all jitsudo needs. Label values are escaped;
 * metric and label names are fixed in code, never taken from input.
 */

type Labels = Record<string, string>;

interface Metric {
  render(): string[];
}

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length ? `{${entries.map(([key, value]) => `${key}="${escape(value)}"`).join(",")}}` : "";
};
const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(labels))?.value ?? 0;
  }

  /** Over every label set. */
  sum(): number {
    let total = 0;
    for (const { value } of this.values.values()) total += value;
    return total;
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values.values()].map(({ labels, value }) => `${this.name}${labelText(labels)} ${value}`),
    ];
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = keyOf(labels);
    const entry = this.series.get(key) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((bound, index) => {
      if (value <= bound) entry.counts[index]! += 1;
    });
    entry.sum += value;
    entry.count += 1;
    this.series.set(key, entry);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, index) =>
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[index]}`),
      );
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`, `${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines;
  }
}

/** Values read when scraped (e.g. grants by status, from the database). */
export class Gauge implements Metric {
  private latest: { labels: Labels; value: number }[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => Promise<{ labels: Labels; value: number }[]>,
  ) {}

  async refresh(): Promise<void> {
    this.latest = await this.collect();
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      ...this.latest.map(({ labels, value }) => `${this.name}${labelText(labels)} ${value}`),
    ];
  }
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** Every metric jitsudo exports. One instance per process (tests make their own). */
export class Metrics {
  readonly transitions = new Counter("jitsudo_grant_transitions_total", "Grant status changes, by the status reached.");
  readonly provisionSeconds = new Histogram(
    "jitsudo_provision_seconds",
    "From a grant's start time to its assignment confirmed active.",
    SECONDS,
  );
  readonly revokeLagSeconds = new Histogram(
    "jitsudo_revoke_lag_seconds",
    "From a grant's expiry to DeleteAccountAssignment issued.",
    SECONDS,
  );
  readonly revokeSeconds = new Histogram("jitsudo_revoke_seconds", "From a grant's expiry to its assignment confirmed deleted.", SECONDS);
  readonly awsCalls = new Counter(
    "jitsudo_aws_calls_total",
    "Identity Center API requests sent (each retry counts), by operation and outcome.",
  );
  readonly awsThrottles = new Counter(
    "jitsudo_aws_throttles_total",
    "Identity Center requests answered with a throttling error, by operation.",
  );
  readonly revokeFailures = new Counter(
    "jitsudo_revoke_failures_total",
    "Revokes that failed and will be retried: access that is still assigned past its end.",
  );
  readonly driftFindings = new Counter(
    "jitsudo_drift_findings_total",
    "Drift found by the reconciler, by kind (missing, unexpected, removed, stuck).",
  );
  readonly driftSweeps = new Counter("jitsudo_drift_sweeps_total", "Drift sweeps, by outcome (completed, skipped, failed).");
  readonly webhooks = new Counter("jitsudo_webhooks_total", "Webhook deliveries handled, by event and outcome.");
  readonly inboxDeliveries = new Counter(
    "jitsudo_inbox_deliveries_total",
    "Webhook inbox attempts, by event and outcome (done, retry, dead).",
  );
  private readonly gauges: Gauge[] = [];

  addGauge(gauge: Gauge): void {
    this.gauges.push(gauge);
  }

  async render(): Promise<string> {
    await Promise.all(this.gauges.map((gauge) => gauge.refresh()));
    const metrics: Metric[] = [
      this.transitions,
      this.provisionSeconds,
      this.revokeLagSeconds,
      this.revokeSeconds,
      this.awsCalls,
      this.awsThrottles,
      this.revokeFailures,
      this.driftFindings,
      this.driftSweeps,
      this.webhooks,
      this.inboxDeliveries,
      ...this.gauges,
    ];
    return `${metrics.flatMap((metric) => metric.render()).join("\n")}\n`;
  }
}

/**
 * Every metric jitsudo exports, on prom-client. One `Metrics` per process (tests make their own),
 * each with its own registry, so two in one process never share or clash.
 *
 * The names are a contract: the README's table, the alerts in deploy/kubernetes and the dashboard in
 * deploy/grafana read them, and test/deploy checks each name they use against a real scrape.
 * Label values come from code (statuses, operation names, outcomes) or from GitHub's event names
 * after the signature check, never from what a request says.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { HANDLED_EVENTS } from "../inbox/events.js";

const GAUGE_READ_TIMEOUT_MS = 5_000;
const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];

/** One labelled value of a gauge read when scraped. */
export interface Sample<L extends string = string> {
  labels: Partial<Record<L, string>>;
  value: number;
}

export interface MetricsOptions {
  /**
   * prom-client's process and Node.js runtime metrics (heap, RSS, event-loop lag, GC, handles).
   * On in every running role; tests that build many short-lived `Metrics` leave it off, since each
   * set installs its own event-loop and GC observers for the life of the process.
   */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  readonly transitions = this.counter(
    "jitsudo_grant_transitions_total",
    "Grant status changes made by this process, by the status reached.",
    ["to"],
  );
  readonly provisionSeconds = this.histogram("jitsudo_provision_seconds", "From a grant's start time to its assignment confirmed active.");
  readonly revokeLagSeconds = this.histogram("jitsudo_revoke_lag_seconds", "From a grant's expiry to DeleteAccountAssignment issued.");
  readonly revokeSeconds = this.histogram("jitsudo_revoke_seconds", "From a grant's expiry to its assignment confirmed deleted.");
  readonly awsCalls = this.counter(
    "jitsudo_aws_calls_total",
    "Identity Center API requests sent (each retry counts), by operation and outcome.",
    ["operation", "outcome"],
  );
  readonly awsThrottles = this.counter(
    "jitsudo_aws_throttles_total",
    "Identity Center requests answered with a throttling error, by operation.",
    ["operation"],
  );
  readonly revokeFailures = this.counter(
    "jitsudo_revoke_failures_total",
    "Revokes that failed and will be retried: access that is still assigned past its end.",
  );
  readonly driftFindings = this.counter(
    "jitsudo_drift_findings_total",
    "Drift found by the reconciler, by kind (missing, unexpected, removed, stuck).",
    ["kind"],
  );
  readonly driftSweeps = this.counter("jitsudo_drift_sweeps_total", "Drift sweeps, by outcome (completed, skipped, failed).", ["outcome"]);
  readonly webhooks = this.counter("jitsudo_webhooks_total", "Webhook deliveries handled, by event and outcome.", ["event", "outcome"]);
  readonly inboxDeliveries = this.counter(
    "jitsudo_inbox_deliveries_total",
    "Webhook inbox attempts, by event and outcome (done, retry, deferred, dead).",
    ["event", "outcome"],
  );
  readonly notificationDeliveries = this.counter(
    "jitsudo_notification_deliveries_total",
    "Notification delivery attempts (Slack, webhooks), by channel and outcome (delivered, failed: retried later, dead: given up).",
    ["channel", "outcome"],
  );

  readonly breakGlass = this.counter(
    "jitsudo_break_glass_total",
    "Grants approved by break-glass (without code-owner approval) that this process recorded; each is also a break_glass grant event.",
  );

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    // Series an alert takes increase() of exist from the start, at 0: a series born at its first
    // failure has no earlier sample, and increase() would miss that failure.
    for (const outcome of ["completed", "skipped", "failed"]) this.driftSweeps.inc({ outcome }, 0);
    for (const kind of ["missing", "unexpected", "removed", "stuck"]) this.driftFindings.inc({ kind }, 0);
    for (const event of [...new Set(HANDLED_EVENTS.map((name) => name.split(".")[0]!)), "unverified"])
      this.webhooks.inc({ event, outcome: "failed" }, 0);
    this.breakGlass.inc(0);
    for (const channel of ["slack", "webhook"])
      for (const outcome of ["delivered", "failed", "dead"]) this.notificationDeliveries.inc({ channel, outcome }, 0);
  }

  /** The set every running role exports: jitsudo's metrics and the process's own. */
  static forProcess(): Metrics {
    return new Metrics({ processMetrics: true });
  }

  /**
   * A gauge whose values are read when Prometheus scrapes (grants by status, pool use). A read
   * that fails, or takes longer than 5 s (a database that does not answer), leaves the gauge empty
   * for that scrape rather than failing or stalling the whole scrape: the process's own metrics
   * still arrive, and the missing gauge is what the JitsudoDatabaseUnavailable alert sees.
   */
  addGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Promise<Sample<L>[]>): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        const samples = await Promise.race([read(), sleep(GAUGE_READ_TIMEOUT_MS, [], { ref: false })]).catch(() => []);
        for (const { labels, value } of samples) this.set(labels, value);
      },
    });
  }

  /** The exposition Prometheus scrapes. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string): Histogram {
    return new Histogram({ name, help, buckets: SECONDS, registers: [this.registry] });
  }
}

/** A counter's current value for one label set, or summed over all of them (tests and benchmarks). */
export async function counterValue<L extends string>(counter: Counter<L>, labels?: Partial<Record<L, string>>): Promise<number> {
  const { values } = await counter.get();
  const matching = labels
    ? values.filter((sample) => Object.entries(labels).every(([key, value]) => (sample.labels as Record<string, unknown>)[key] === value))
    : values;
  return matching.reduce((total, sample) => total + sample.value, 0);
}

/**
 * deploy/grafana/jitsudo.json is a dashboard Grafana can import as it is, and every query in it
 * reads series that jitsudo's /metrics really exports (read from a real scrape, not a list kept
 * by hand), so renaming a metric without the dashboard fails here rather than in front of on-call.
 */
import { readFileSync } from "node:fs";
import type { Knex } from "knex";
import { beforeAll, describe, expect, it } from "vitest";
import { freshDatabase } from "../support/db.js";
import { exportedMetricNames, metricNamesInPromql } from "../support/exported-metrics.js";

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
  fieldConfig?: { defaults?: { thresholds?: { steps?: { value: number | null }[] } } };
}

interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: { type?: string; uid?: string };
}

interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  templating?: { list?: Variable[] };
  panels?: Panel[];
}

const text = readFileSync(new URL("../../deploy/grafana/jitsudo.json", import.meta.url), "utf8");
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** Every panel, rows included, and the panels a collapsed row keeps inside it. */
function allPanels(dashboard: Dashboard): Panel[] {
  return (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** Panels that query (everything but rows). */
const queryPanels = (dashboard: Dashboard) => allPanels(dashboard).filter((panel) => panel.type !== "row");
const queryText = (variable: Variable) => (typeof variable.query === "string" ? variable.query : (variable.query?.query ?? ""));

describe("deploy/grafana/jitsudo.json", () => {
  let dashboard: Dashboard;
  let db: Knex;

  beforeAll(async () => {
    dashboard = JSON.parse(text) as Dashboard;
    ({ db } = await freshDatabase());
  });

  it("is a dashboard Grafana imports: uid, title, schemaVersion, panels", () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(queryPanels(dashboard).length).toBeGreaterThan(0);
  });

  it("chooses its Prometheus data source, job and namespace by variables", () => {
    const variables = new Map((dashboard.templating?.list ?? []).map((variable) => [variable.name, variable]));
    expect(variables.get("datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    for (const name of ["job", "namespace"]) expect(variables.get(name), name).toMatchObject({ type: "query", datasource: DATASOURCE });
  });

  it("gives every panel a unique id", () => {
    const ids = allPanels(dashboard).map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("lays panels out on the 24-column grid without overlaps", () => {
    const placed = allPanels(dashboard).map((panel) => ({ title: panel.title, ...panel.gridPos! }));
    for (const panel of placed) expect(panel.x + panel.w, panel.title).toBeLessThanOrEqual(24);
    const overlaps = placed.flatMap((a, i) =>
      placed
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.title} × ${b.title}`),
    );
    expect(overlaps).toEqual([]);
  });

  it("queries the data source variable from every panel and target, filtered by job and namespace", () => {
    for (const panel of queryPanels(dashboard)) {
      expect(panel.datasource, panel.title).toEqual(DATASOURCE);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        if (target.datasource) expect(target.datasource, panel.title).toEqual(DATASOURCE);
        expect(target.expr, panel.title).toContain('job=~"$job"');
        expect(target.expr, panel.title).toContain('namespace=~"$namespace"');
      }
    }
  });

  it("says on every panel what it shows and what to do when it looks wrong", () => {
    const terse = queryPanels(dashboard)
      .filter((panel) => (panel.description ?? "").length < 80)
      .map((panel) => panel.title);
    expect(terse).toEqual([]);
  });

  it("reads only series jitsudo's /metrics exports", async () => {
    const exported = await exportedMetricNames(db);
    const unknown: string[] = [];
    for (const panel of queryPanels(dashboard))
      for (const target of panel.targets ?? []) {
        const names = metricNamesInPromql(target.expr ?? "");
        if (names.length === 0) unknown.push(`${panel.title}: ${target.expr} reads no metric`);
        for (const name of names) if (!exported.has(name)) unknown.push(`${panel.title}: ${name}`);
      }
    for (const variable of dashboard.templating?.list ?? []) {
      const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(queryText(variable))?.[1];
      if (metric !== undefined && !exported.has(metric)) unknown.push(`variable ${variable.name}: ${metric}`);
    }
    expect(unknown).toEqual([]);
  });

  it("shows grants, latency, the AWS budget, revokes, drift, webhooks, the pool and the process", () => {
    const exprs = queryPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => target.expr ?? ""));
    const read = new Set(exprs.flatMap((expr) => metricNamesInPromql(expr)));
    for (const name of [
      "jitsudo_grants",
      "jitsudo_grant_oldest_seconds",
      "jitsudo_provision_seconds_bucket",
      "jitsudo_revoke_seconds_bucket",
      "jitsudo_revoke_lag_seconds_bucket",
      "jitsudo_aws_calls_total",
      "jitsudo_aws_throttles_total",
      "jitsudo_revoke_failures_total",
      "jitsudo_drift_findings_total",
      "jitsudo_drift_findings_open",
      "jitsudo_drift_sweeps_total",
      "jitsudo_webhooks_total",
      "jitsudo_inbox_deliveries",
      "jitsudo_inbox_deliveries_total",
      "jitsudo_db_pool_connections",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
    ])
      expect(read.has(name), name).toBe(true);
    // The budget panel draws AWS's 20 requests per second as a line.
    const budget = queryPanels(dashboard).find(
      (panel) =>
        panel.type === "timeseries" &&
        (panel.targets ?? []).some((target) => /^sum\(rate\(jitsudo_aws_calls_total\{[^}]*\}\[1m\]\)\)$/.test(target.expr ?? "")),
    );
    expect(budget?.fieldConfig?.defaults?.thresholds?.steps?.map((step) => step.value)).toContain(20);
  });
});

/**
 * deploy/kubernetes: what `kubectl apply -k` would create, checked the way an operator would.
 *
 * The raw resource files are always parsed and validated against the Kubernetes (and Prometheus
 * operator) schemas of kubernetes-models. The base and the single-replica overlay are rendered with
 * `kubectl kustomize` (offline); only where kubectl is missing are the rendered checks skipped.
 * Then: pods run as non-root on a read-only root filesystem, probes and ports match what jitsudo
 * serves, every environment variable comes from a key that exists and is one jitsudo documents,
 * both roles are scraped exactly once, disruption budgets never block a drain, and every alert
 * names only metrics a real /metrics exports and links to the runbook.
 */
// The manifests are YAML of a dozen kinds, read as plain objects: each is validated by its model
// class and then checked field by field, so typing every path would add nothing the checks do not.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as apps from "kubernetes-models/apps/v1";
import * as autoscaling from "kubernetes-models/autoscaling/v2";
import * as batch from "kubernetes-models/batch/v1";
import * as networking from "kubernetes-models/networking.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import * as monitoring from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DEPLOY = join(ROOT, "deploy/kubernetes");
const BASE = join(DEPLOY, "base");
const OVERLAY = join(DEPLOY, "overlays/single-replica");
const SECRET_EXAMPLE = join(DEPLOY, "secret.example.yaml");

const NAMESPACE = "jitsudo";
const IMAGE = "ghcr.io/jitsudo/jitsudo";
const RUNBOOK = "https://github.com/jitsudo/jitsudo#troubleshooting";
const PORT = 3000;
const ROLES = { "jitsudo-server": "server", "jitsudo-worker": "worker" } as const;
/** Variables jitsudo does not read itself but its runtime does: Node, and the AWS SDK's credential chain. */
const RUNTIME_VARIABLES = new Set(["NODE_OPTIONS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);

// ---------------------------------------------------------------------------------------------
// Objects and their schemas

/** A Kubernetes object as YAML gives it: typed loosely, checked by the model classes and below. */
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, any>;
type ModelClass = { apiVersion: string; kind: string; new (data: unknown): { validate(): void } };

/** Every kind of the API groups a deployment of jitsudo could sensibly use, by apiVersion/kind. */
const MODELS = new Map<string, ModelClass>();
for (const group of [core, apps, policy, networking, autoscaling, batch, rbac, monitoring]) {
  for (const value of Object.values(group) as unknown[]) {
    if (typeof value !== "function") continue;
    const model = value as unknown as Partial<ModelClass>;
    if (typeof model.apiVersion === "string" && typeof model.kind === "string")
      MODELS.set(`${model.apiVersion}/${model.kind}`, model as ModelClass);
  }
}

function validateObject(object: K8sObject): void {
  const where = `${object.kind}/${object.metadata?.name} (${object.apiVersion})`;
  const Model = MODELS.get(`${object.apiVersion}/${object.kind}`);
  expect(Model, `${where}: a kind no schema here knows`).toBeDefined();
  expect(() => new Model!(object).validate(), where).not.toThrow();
  expect(object.metadata?.name, `${where} has a name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
}

function parseYaml(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    expect(
      document.errors.map((error) => error.message),
      `YAML of ${source}`,
    ).toEqual([]);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

const readYaml = (path: string) => parseYaml(readFileSync(path, "utf8"), path);

function kustomization(
  dir: string,
): { resources?: string[]; images?: { name: string; newTag?: string; digest?: string }[] } & Record<string, any> {
  const [only] = readYaml(join(dir, "kustomization.yaml"));
  return only as never;
}

/** The kubectl on PATH, or why there is none. */
const kubectlProbe = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
const kubectlMissing = kubectlProbe.error ? `kubectl is not installed (${kubectlProbe.error.message})` : undefined;

function render(dir: string): K8sObject[] {
  const result = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 20_000 });
  expect(result.error, "kubectl ran").toBeUndefined();
  expect(result.stderr.trim(), `kubectl kustomize ${dir}`).toBe("");
  expect(result.status, `kubectl kustomize ${dir}`).toBe(0);
  return parseYaml(result.stdout, `kubectl kustomize ${dir}`);
}

const ofKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string) => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  expect(found, `${kind}/${name}`).toBeDefined();
  return found!;
};
const matches = (
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Record<string, string> = {},
) => {
  expect(selector?.matchExpressions, "selectors here use matchLabels only").toBeUndefined();
  const wanted = Object.entries(selector?.matchLabels ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels[key] === value);
};
/** A Service's selector is a plain map, a Deployment's or a PDB's is a LabelSelector. */
const serviceSelects = (service: K8sObject, labels: Record<string, string> = {}) => matches({ matchLabels: service.spec.selector }, labels);
const podLabels = (deployment: K8sObject): Record<string, string> => deployment.spec.template.metadata.labels;

/** cpu ("100m", "1") in cores; memory ("256Mi", "1Gi", bytes) in bytes. */
function quantity(text: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(text));
  expect(match, `quantity ${text}`).not.toBeNull();
  const factor = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[match![2] ?? ""] ?? 1;
  return Number(match![1]) * factor;
}

// ---------------------------------------------------------------------------------------------
// What jitsudo documents (README), and the Secret people are told to create

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The variables of README's "Configuration (environment)" table: the names jitsudo reads. */
function documentedVariables(): Set<string> {
  const section = README.split(/^## /m).find((part) => part.startsWith("Configuration (environment)"));
  expect(section, "README has a Configuration (environment) section").toBeDefined();
  const names = new Set<string>();
  for (const line of section!.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const firstCell = line.split("|")[1]!;
    for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name!);
  }
  return names;
}

const secretExampleText = readFileSync(SECRET_EXAMPLE, "utf8");
const secretExample = (() => {
  const objects = parseYaml(secretExampleText, SECRET_EXAMPLE);
  expect(objects).toHaveLength(1);
  return objects[0]!;
})();
const secretKeys = new Set(Object.keys({ ...secretExample.data, ...secretExample.stringData }));

// ---------------------------------------------------------------------------------------------
// The checks, as functions of a rendering, so that the last block can show each one fails

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

function checkDeployment(deployment: K8sObject, objects: K8sObject[]): void {
  const name = deployment.metadata.name as keyof typeof ROLES;
  const role = ROLES[name];
  expect(role, `${name} is one of jitsudo's roles`).toBeDefined();
  const spec = deployment.spec;
  const pod = spec.template.spec;
  expect(matches(spec.selector, podLabels(deployment)), `${name}: its selector selects its own pods`).toBe(true);
  for (const other of ofKind(objects, "Deployment").filter((candidate) => candidate !== deployment)) {
    expect(matches(spec.selector, podLabels(other)), `${name}'s selector leaves ${other.metadata.name}'s pods alone`).toBe(false);
  }

  // Identity: its own service account, no Kubernetes API token.
  expect(pod.automountServiceAccountToken, `${name}: no API token mounted`).toBe(false);
  named(objects, "ServiceAccount", pod.serviceAccountName);
  expect(named(objects, "ServiceAccount", pod.serviceAccountName).automountServiceAccountToken).toBe(false);
  // Only the worker may hold jitsudo's AWS identity: the server faces the internet and calls no AWS
  // API, so it has a service account of its own (nothing to bind IAM to) and no AWS keys.
  if (name === "jitsudo-server") {
    const workerAccount = named(objects, "Deployment", "jitsudo-worker").spec.template.spec.serviceAccountName;
    expect(pod.serviceAccountName, "the server shares no service account with the worker").not.toBe(workerAccount);
    const variables = pod.containers.flatMap((container: any) => (container.env ?? []).map((variable: any) => variable.name as string));
    expect(variables.filter((variable: string) => variable.startsWith("AWS_") && variable !== "AWS_REGION")).toEqual([]);
  }
  // SIGTERM: stop claiming, 10 s for steps in flight, hand over; the kubelet must wait for that.
  expect(pod.terminationGracePeriodSeconds, `${name}: time to hand over`).toBeGreaterThanOrEqual(60);
  // Spread over nodes, by a constraint or an anti-affinity that really selects this role's pods.
  const spreads = (pod.topologySpreadConstraints ?? []).filter(
    (constraint: any) => constraint.topologyKey === "kubernetes.io/hostname" && matches(constraint.labelSelector, podLabels(deployment)),
  );
  const antiAffinity = [
    ...(pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((term: any) => term.podAffinityTerm),
  ].filter((term: any) => term.topologyKey === "kubernetes.io/hostname" && matches(term.labelSelector, podLabels(deployment)));
  expect(spreads.length + antiAffinity.length, `${name}: replicas spread across nodes`).toBeGreaterThan(0);

  const podSecurity = pod.securityContext ?? {};
  expect(pod.containers.length, `${name}: one container`).toBe(1);
  expect(pod.initContainers ?? [], `${name}: no init containers`).toEqual([]);
  for (const container of pod.containers) {
    const where = `${name}/${container.name}`;
    // The image, tagged by the kustomization's images: entry (one place).
    expect(container.image, `${where}: image`).toMatch(new RegExp(`^${IMAGE.replace(/\./g, "\\.")}(:[\\w][\\w.-]*|@sha256:[a-f0-9]{64})$`));
    expect(container.args, `${where}: runs its role`).toEqual(["node", "dist/cli.js", role]);
    expect(container.command, `${where}: keeps the image's entrypoint`).toBeUndefined();

    // Pod Security "restricted", and the image's node user on a read-only root filesystem.
    const security = { ...podSecurity, ...container.securityContext };
    expect(security.runAsNonRoot, `${where}: runAsNonRoot`).toBe(true);
    expect(security.runAsUser, `${where}: runs as the image's node user`).toBe(1000);
    expect(security.readOnlyRootFilesystem, `${where}: read-only root filesystem`).toBe(true);
    expect(security.allowPrivilegeEscalation, `${where}: no privilege escalation`).toBe(false);
    expect(security.privileged ?? false, `${where}: not privileged`).toBe(false);
    expect(security.capabilities?.drop, `${where}: drops every capability`).toEqual(["ALL"]);
    expect(security.capabilities?.add ?? [], `${where}: adds none`).toEqual([]);
    expect(security.seccompProfile?.type, `${where}: seccomp`).toBe("RuntimeDefault");
    const tmp = (container.volumeMounts ?? []).find((mount: any) => mount.mountPath === "/tmp");
    expect(tmp, `${where}: a writable /tmp`).toBeDefined();
    expect((pod.volumes ?? []).find((volume: any) => volume.name === tmp.name)?.emptyDir, `${where}: /tmp is an emptyDir`).toBeDefined();

    // What jitsudo serves on PORT: /healthz, /readyz, /metrics.
    const ports = container.ports ?? [];
    expect(ports, `${where}: port 3000 named http`).toContainEqual(expect.objectContaining({ name: "http", containerPort: PORT }));
    const env: EnvVar[] = container.env ?? [];
    const portVariable = env.find((variable) => variable.name === "PORT");
    if (portVariable) expect(portVariable.value, `${where}: PORT`).toBe(String(PORT));
    const probePort = (probe: any) => (probe.httpGet.port === "http" ? PORT : probe.httpGet.port);
    expect(container.livenessProbe?.httpGet?.path, `${where}: liveness`).toBe("/healthz");
    expect(container.readinessProbe?.httpGet?.path, `${where}: readiness`).toBe("/readyz");
    // Start-up on /healthz: it answers once migrations ran; a worker not ready (AWS) must not be restarted for it.
    expect(container.startupProbe?.httpGet?.path, `${where}: startup (migrations run before it listens)`).toBe("/healthz");
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe])
      expect(probePort(probe), `${where}: probe port`).toBe(PORT);
    const startup = container.startupProbe;
    expect(startup.periodSeconds * startup.failureThreshold, `${where}: a start may wait for the migration lock`).toBeGreaterThanOrEqual(
      120,
    );

    // Requests and limits, and a V8 heap that fits under the memory limit.
    const { requests, limits } = container.resources ?? {};
    for (const resource of ["cpu", "memory"]) {
      expect(requests?.[resource], `${where}: ${resource} request`).toBeDefined();
      expect(limits?.[resource], `${where}: ${resource} limit`).toBeDefined();
      expect(quantity(requests[resource]), `${where}: ${resource} request within its limit`).toBeLessThanOrEqual(
        quantity(limits[resource]),
      );
    }
    const heap = /--max-old-space-size=(\d+)/.exec(env.find((variable) => variable.name === "NODE_OPTIONS")?.value ?? "");
    if (heap) expect(Number(heap[1]) * 2 ** 20, `${where}: V8 heap below the memory limit`).toBeLessThan(quantity(limits.memory) * 0.8);

    checkEnvironment(where, role, env, objects);
  }
}

function checkEnvironment(where: string, role: "server" | "worker", env: EnvVar[], objects: K8sObject[]): void {
  const documented = documentedVariables();
  const names = env.map((variable) => variable.name);
  expect(new Set(names).size, `${where}: no variable twice`).toBe(names.length);
  for (const variable of env) {
    expect(
      documented.has(variable.name) || RUNTIME_VARIABLES.has(variable.name),
      `${where}: ${variable.name} is a variable jitsudo reads (README)`,
    ).toBe(true);
    const { secretKeyRef, configMapKeyRef } = variable.valueFrom ?? {};
    if (secretKeyRef) {
      expect(secretKeyRef.name, `${where}: ${variable.name} from the Secret jitsudo`).toBe(secretExample.metadata.name);
      if (secretKeyRef.optional) {
        expect(secretExampleText, `${where}: optional ${secretKeyRef.key} is explained in secret.example.yaml`).toContain(secretKeyRef.key);
      } else {
        expect([...secretKeys], `${where}: ${variable.name} reads a key secret.example.yaml has`).toContain(secretKeyRef.key);
      }
    }
    if (configMapKeyRef) {
      const configMap = named(objects, "ConfigMap", configMapKeyRef.name);
      expect(Object.keys(configMap.data ?? {}), `${where}: ${variable.name} reads a key ConfigMap ${configMapKeyRef.name} has`).toContain(
        configMapKeyRef.key,
      );
    }
  }
  const required = (name: string) => {
    const variable = env.find((candidate) => candidate.name === name);
    expect(variable, `${where}: ${name} is set`).toBeDefined();
    const reference = variable!.valueFrom?.secretKeyRef ?? variable!.valueFrom?.configMapKeyRef;
    expect(variable!.value !== undefined || reference?.optional !== true, `${where}: ${name} is not optional`).toBe(true);
  };
  for (const name of ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "DATABASE_URL"]) required(name);
  // "the worker requires both" (README); the server reads them for requests naming no instance.
  if (role === "worker") for (const name of ["AWS_REGION", "IC_INSTANCE_ARN"]) required(name);
  // The grants API is the server's; its token reaches no other role.
  if (role === "server") expect(names, `${where}: the API token`).toContain("JITSUDO_API_TOKEN");
  else expect(names, `${where}: no API token`).not.toContain("JITSUDO_API_TOKEN");
}

/** Webhooks reach the servers only; one Service covers every pod of both roles for Prometheus. */
function checkServicesAndScraping(objects: K8sObject[]): void {
  const deployments = ofKind(objects, "Deployment");
  const server = named(objects, "Deployment", "jitsudo-server");
  const webhooks = named(objects, "Service", "jitsudo-server");
  expect(
    deployments.filter((deployment) => serviceSelects(webhooks, podLabels(deployment))),
    "webhooks go to the servers alone",
  ).toEqual([server]);
  expect(webhooks.spec.ports, "webhook Service: port 80 to the pods' http port").toContainEqual(
    expect.objectContaining({ port: 80, targetPort: "http" }),
  );

  const monitors = ofKind(objects, "ServiceMonitor");
  expect(monitors, "one ServiceMonitor").toHaveLength(1);
  const monitor = monitors[0]!;
  const scraped = ofKind(objects, "Service").filter((service) => matches(monitor.spec.selector, service.metadata.labels));
  expect(scraped, "the ServiceMonitor selects exactly one Service, so no pod is scraped twice").toHaveLength(1);
  const metrics = scraped[0]!;
  expect(
    monitor.spec.namespaceSelector?.matchNames ?? [monitor.metadata.namespace],
    "the Service is where the ServiceMonitor looks",
  ).toContain(metrics.metadata.namespace);
  for (const deployment of deployments) {
    expect(serviceSelects(metrics, podLabels(deployment)), `${deployment.metadata.name} is scraped`).toBe(true);
  }
  for (const endpoint of monitor.spec.endpoints) {
    expect(endpoint.path, "scrape path").toBe("/metrics");
    const port = (metrics.spec.ports ?? []).find((candidate: any) => candidate.name === endpoint.port);
    expect(port, `the ServiceMonitor's port ${endpoint.port} is a port of ${metrics.metadata.name}`).toBeDefined();
    expect([PORT, "http"], `${metrics.metadata.name}'s port ${port.name} reaches the pods' /metrics`).toContain(
      port.targetPort ?? port.port,
    );
  }
}

/** A budget that keeps every replica up forbids every eviction: node drains hang. */
function checkDisruptionBudgets(objects: K8sObject[]): void {
  for (const budget of ofKind(objects, "PodDisruptionBudget")) {
    const selected = ofKind(objects, "Deployment").filter((deployment) => matches(budget.spec.selector, podLabels(deployment)));
    expect(selected, `PDB ${budget.metadata.name} covers exactly one Deployment`).toHaveLength(1);
    const replicas: number = selected[0]!.spec.replicas ?? 1;
    if (budget.spec.minAvailable !== undefined) {
      expect(budget.spec.minAvailable, `PDB ${budget.metadata.name} allows a drain of ${replicas} replica(s)`).toBeLessThan(replicas);
    }
    if (budget.spec.maxUnavailable !== undefined) expect(budget.spec.maxUnavailable, `PDB ${budget.metadata.name}`).toBeGreaterThan(0);
  }
}

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const alertsOf = (objects: K8sObject[]): AlertRule[] =>
  ofKind(objects, "PrometheusRule").flatMap((rule) => rule.spec.groups.flatMap((group: { rules: AlertRule[] }) => group.rules));

function checkAlert(rule: AlertRule): void {
  const where = rule.alert ?? rule.record ?? "a rule";
  expect(rule.alert, `${where}: an alert, not a recording rule`).toMatch(/^Jitsudo[A-Z]\w+$/);
  expect(rule.expr.trim(), `${where}: expr`).not.toBe("");
  expect(["critical", "warning", "info"], `${where}: severity`).toContain(rule.labels?.severity);
  expect(rule.annotations?.summary?.trim(), `${where}: summary`).toBeTruthy();
  expect(rule.annotations?.description?.trim(), `${where}: description`).toBeTruthy();
  expect(rule.annotations?.runbook_url, `${where}: runbook_url`).toBe(RUNBOOK);
  if (rule.for !== undefined) expect(rule.for, `${where}: for`).toMatch(/^\d+[smh]$/);
}

/** Names an alert reads must be on a real /metrics (or Prometheus's own `up`). */
function unexportedNames(rules: AlertRule[], exported: Set<string>, metricNamesInPromql: (expression: string) => string[]): string[] {
  const missing = new Set<string>();
  for (const rule of rules)
    for (const name of metricNamesInPromql(rule.expr)) if (name !== "up" && !exported.has(name)) missing.add(`${rule.alert}: ${name}`);
  return [...missing];
}

function checkRendering(objects: K8sObject[], replicas: number): void {
  for (const object of objects) validateObject(object);
  const keys = objects.map((object) => `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`);
  expect(new Set(keys).size, "no object twice").toBe(keys.length);
  for (const object of objects) {
    expect(object.metadata.labels?.["app.kubernetes.io/name"], `${object.kind}/${object.metadata.name}: labelled`).toBe("jitsudo");
    if (object.kind === "Namespace") expect(object.metadata.name).toBe(NAMESPACE);
    else expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}: namespace`).toBe(NAMESPACE);
  }
  expect(ofKind(objects, "Secret"), "no Secret (and no credential) in what kustomize renders").toEqual([]);
  expect(named(objects, "Namespace", NAMESPACE).metadata.labels?.["pod-security.kubernetes.io/enforce"], "Pod Security").toBe("restricted");
  const deployments = ofKind(objects, "Deployment");
  expect(deployments.map((deployment) => deployment.metadata.name).sort()).toEqual(Object.keys(ROLES));
  for (const deployment of deployments) {
    expect(deployment.spec.replicas, `${deployment.metadata.name}: replicas`).toBe(replicas);
    checkDeployment(deployment, objects);
  }
  checkServicesAndScraping(objects);
  checkDisruptionBudgets(objects);
  const alerts = alertsOf(objects);
  for (const rule of alerts) checkAlert(rule);
  const names = alerts.map((rule) => rule.alert);
  expect(new Set(names).size, "alert names are unique").toBe(names.length);
}

// ---------------------------------------------------------------------------------------------

describe("deploy/kubernetes: the files as written", () => {
  const baseKustomization = kustomization(BASE);
  const baseFiles = (baseKustomization.resources ?? []).map((resource) => join(BASE, resource));

  it("every resource file of the base parses and validates against its kind's schema", () => {
    expect(baseFiles.length).toBeGreaterThan(0);
    const objects = baseFiles.flatMap(readYaml);
    for (const object of objects) validateObject(object);
    expect(new Set(objects.map((object) => object.kind))).toEqual(
      new Set([
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "PrometheusRule",
      ]),
    );
    // The images: entry tags exactly the image the Deployments name, so the tag is set in one place.
    const images = baseKustomization.images ?? [];
    expect(images.map((image) => image.name)).toEqual([IMAGE]);
    expect(images[0]!.newTag ?? images[0]!.digest, "a tag (or digest) for the image").toBeTruthy();
    for (const deployment of ofKind(objects, "Deployment")) {
      for (const container of deployment.spec.template.spec.containers) expect(container.image, "untagged in the files").toBe(IMAGE);
    }
    expect(baseKustomization.namespace).toBe(NAMESPACE);
  });

  it("the example Secret validates, holds every key the pods require, and is not among the base's resources", () => {
    validateObject(secretExample);
    expect(secretExample.kind).toBe("Secret");
    expect(secretExample.metadata).toMatchObject({ name: "jitsudo", namespace: NAMESPACE });
    expect(baseFiles.map((file) => resolve(file))).not.toContain(SECRET_EXAMPLE);
    const consumed = new Set(
      baseFiles
        .flatMap(readYaml)
        .filter((object) => object.kind === "Deployment")
        .flatMap((deployment) => deployment.spec.template.spec.containers.flatMap((container: any) => container.env ?? []))
        .map((variable: EnvVar) => variable.valueFrom?.secretKeyRef?.key)
        .filter((key: string | undefined) => key !== undefined),
    );
    for (const key of secretKeys) expect([...consumed], `secret.example.yaml's ${key} is read by a pod`).toContain(key);
  });

  it("every alert has a severity, a summary, a description and the runbook, and the runbook's anchor exists", () => {
    const alerts = alertsOf(baseFiles.flatMap(readYaml));
    expect(alerts.length).toBeGreaterThan(0);
    for (const rule of alerts) checkAlert(rule);
    expect(README, "README's Troubleshooting heading (the #troubleshooting anchor)").toMatch(/^## Troubleshooting$/m);
    // What the on-call must hear about.
    const expressions = alerts.map((rule) => rule.expr).join("\n");
    for (const needed of [
      "jitsudo_revoke_failures_total",
      'jitsudo_grant_oldest_seconds{status="revoking"}',
      'jitsudo_grant_oldest_seconds{status="provisioning"}',
      "jitsudo_drift_findings_open",
      'jitsudo_webhooks_total{outcome="failed"}',
      'jitsudo_inbox_deliveries{state="dead"}',
      "jitsudo_aws_throttles_total",
      'jitsudo_db_pool_connections{state="waiting"}',
      "absent(up{",
      "== 0",
    ]) {
      expect(expressions, `an alert on ${needed}`).toContain(needed);
    }
    const critical = alerts.filter((rule) => rule.labels?.severity === "critical").map((rule) => rule.expr);
    expect(
      critical.some((expr) => expr.includes("jitsudo_revoke_failures_total")),
      "revoke failures are critical",
    ).toBe(true);
  });

  describe("alerts and what /metrics exports", () => {
    // Loaded here, not at the top: the manifests' checks above need no database and no src build.
    let exported: Set<string>;
    let metricNamesInPromql: (expression: string) => string[];
    beforeAll(async () => {
      const support = await import("../support/exported-metrics.js");
      const { freshDatabase } = await import("../support/db.js");
      const { db } = await freshDatabase();
      exported = await support.exportedMetricNames(db);
      metricNamesInPromql = support.metricNamesInPromql;
    });

    it("every metric an alert names is one /metrics exports (or Prometheus's own up)", () => {
      expect(exported.size, "a scrape exports metrics").toBeGreaterThan(0);
      const alerts = alertsOf(baseFiles.flatMap(readYaml));
      for (const rule of alerts) expect(metricNamesInPromql(rule.expr), `${rule.alert} reads a metric`).not.toEqual([]);
      expect(unexportedNames(alerts, exported, metricNamesInPromql), "metrics alerts read but /metrics does not export").toEqual([]);
    });
  });
});

describe.skipIf(kubectlMissing !== undefined)(
  `deploy/kubernetes rendered by kubectl kustomize${kubectlMissing ? ` (skipped: ${kubectlMissing})` : ""}`,
  () => {
    let base: K8sObject[];
    let overlay: K8sObject[];
    beforeAll(() => {
      base = render(BASE);
      overlay = render(OVERLAY);
    });

    it("base: valid objects, two replicas of each role, hardened, probed, configured and scraped", () => {
      checkRendering(base, 2);
      const images = base.flatMap((object) =>
        object.kind === "Deployment" ? object.spec.template.spec.containers.map((container: any) => container.image) : [],
      );
      const [tag] = kustomization(BASE).images!;
      expect(new Set(images)).toEqual(new Set([`${IMAGE}:${tag!.newTag}`]));
      // Two replicas: a budget per role that keeps one up during a drain.
      for (const name of Object.keys(ROLES)) {
        const budgets = ofKind(base, "PodDisruptionBudget").filter((budget) =>
          matches(budget.spec.selector, podLabels(named(base, "Deployment", name))),
        );
        expect(
          budgets.map((budget) => budget.spec.minAvailable),
          `${name}'s PDB`,
        ).toEqual([1]);
        // Pods that are not ready may be evicted: a drain never waits on a budget they cannot meet.
        expect(budgets.map((budget) => budget.spec.unhealthyPodEvictionPolicy)).toEqual(["AlwaysAllow"]);
      }
    });

    it("single-replica overlay: one replica each, no budget that blocks a drain, fewer resources", () => {
      checkRendering(overlay, 1);
      for (const name of Object.keys(ROLES)) {
        const small = named(overlay, "Deployment", name).spec.template.spec.containers[0].resources;
        const large = named(base, "Deployment", name).spec.template.spec.containers[0].resources;
        for (const [kind, resource] of [
          ["requests", "memory"],
          ["limits", "memory"],
          ["requests", "cpu"],
          ["limits", "cpu"],
        ] as const) {
          expect(quantity(small[kind][resource]), `${name}: ${kind}.${resource}`).toBeLessThan(quantity(large[kind][resource]));
        }
      }
      // Everything else is the base's.
      const kinds = (objects: K8sObject[]) =>
        objects.map((object) => `${object.kind}/${object.metadata.name}`).filter((key) => !key.startsWith("PodDisruptionBudget/"));
      expect(kinds(overlay).sort()).toEqual(kinds(base).sort());
    });

    it("the alerts' up{job=~…} matches the job the ServiceMonitor gives, and their pod labels are ones it copies", () => {
      const monitor = ofKind(base, "ServiceMonitor")[0]!;
      const jobs = ofKind(base, "Service")
        .filter((service) => matches(monitor.spec.selector, service.metadata.labels))
        .map((service) => (monitor.spec.jobLabel ? service.metadata.labels?.[monitor.spec.jobLabel] : service.metadata.name) as string);
      expect(jobs).toHaveLength(1);
      const copied = new Set((monitor.spec.podTargetLabels ?? []).map((label: string) => label.replace(/[^a-zA-Z0-9_]/g, "_")));
      for (const rule of alertsOf(base)) {
        for (const [, regex] of rule.expr.matchAll(/job=~"([^"]*)"/g))
          expect(jobs[0], `${rule.alert}: job=~"${regex}"`).toMatch(new RegExp(`^(?:${regex})$`));
        for (const [, label] of rule.expr.matchAll(/\b(app_kubernetes_io_\w+)\s*=/g))
          expect([...copied], `${rule.alert}: ${label}`).toContain(label);
      }
    });

    describe("the checks fail when the manifests are wrong", () => {
      const broken = (change: (objects: K8sObject[]) => void) => () => {
        const objects = structuredClone(base);
        change(objects);
        checkRendering(objects, 2);
      };
      const container = (objects: K8sObject[], name: string) => named(objects, "Deployment", name).spec.template.spec.containers[0];

      it("the unchanged rendering passes (so each failure below is the change's)", () => {
        expect(broken(() => {})).not.toThrow();
      });
      it.each([
        [
          "a liveness probe on the wrong path",
          (objects: K8sObject[]) => (container(objects, "jitsudo-worker").livenessProbe.httpGet.path = "/health"),
        ],
        [
          "readiness on /healthz",
          (objects: K8sObject[]) => (container(objects, "jitsudo-server").readinessProbe.httpGet.path = "/healthz"),
        ],
        ["the port renamed", (objects: K8sObject[]) => (container(objects, "jitsudo-server").ports[0].name = "web")],
        ["root allowed", (objects: K8sObject[]) => (container(objects, "jitsudo-worker").securityContext.runAsNonRoot = false)],
        [
          "root's uid",
          (objects: K8sObject[]) => (named(objects, "Deployment", "jitsudo-worker").spec.template.spec.securityContext.runAsUser = 0),
        ],
        [
          "a writable root filesystem",
          (objects: K8sObject[]) => (container(objects, "jitsudo-server").securityContext.readOnlyRootFilesystem = false),
        ],
        [
          "a misspelt variable",
          (objects: K8sObject[]) =>
            (container(objects, "jitsudo-worker").env.find((env: EnvVar) => env.name === "LOG_LEVEL").name = "LOGLEVEL"),
        ],
        ["a key the ConfigMap lacks", (objects: K8sObject[]) => delete named(objects, "ConfigMap", "jitsudo").data.LOG_LEVEL],
        [
          "a key the Secret lacks",
          (objects: K8sObject[]) =>
            (container(objects, "jitsudo-server").env.find((env: EnvVar) => env.name === "APP_ID").valueFrom.secretKeyRef.key =
              "GITHUB_APP_ID"),
        ],
        [
          "the worker not scraped",
          (objects: K8sObject[]) => (named(objects, "Service", "jitsudo-metrics").spec.selector["app.kubernetes.io/component"] = "server"),
        ],
        [
          "a PDB that blocks drains",
          (objects: K8sObject[]) => (named(objects, "PodDisruptionBudget", "jitsudo-server").spec.minAvailable = 2),
        ],
        ["an invalid field type", (objects: K8sObject[]) => (named(objects, "Deployment", "jitsudo-server").spec.replicas = "2")],
        [
          "an unknown kind",
          (objects: K8sObject[]) =>
            objects.push({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: NAMESPACE } }),
        ],
        ["an alert without a runbook", (objects: K8sObject[]) => delete alertsOf(objects)[0]!.annotations!.runbook_url],
      ])("%s", (_, change) => {
        expect(broken(change)).toThrow();
      });
      it("an alert on a metric /metrics does not export", async () => {
        const { metricNamesInPromql } = await import("../support/exported-metrics.js");
        const rules = [{ alert: "JitsudoX", expr: 'sum(rate(jitsudo_revoke_failure_total[5m])) > 0 or up{job="x"} == 0' }];
        expect(unexportedNames(rules, new Set(["jitsudo_revoke_failures_total"]), metricNamesInPromql)).toEqual([
          "JitsudoX: jitsudo_revoke_failure_total",
        ]);
      });
    });
  },
);

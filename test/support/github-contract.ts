/**
 * Checks the local GitHub against GitHub's published descriptions of its API:
 * - REST answers against the response schemas of GitHub's OpenAPI description
 *   (@octokit/openapi, api.github.com), for the path template, method and status of each call;
 * - webhook payloads against @octokit/webhooks-schemas (the event's action sub-schema);
 * - GraphQL queries against GitHub's GraphQL schema (@octokit/graphql-schema's `validate`).
 *
 * GitHub's OpenAPI description is OpenAPI 3.0, where `nullable: true` widens a schema to null.
 * Ajv understands `nullable` only next to `type`, so each nullable schema is rewritten as
 * `anyOf: [schema, {type: null}]` before compiling, which is what the keyword means.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import AjvModule, { type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { validate as validateGraphql } from "@octokit/graphql-schema";
import type { RecordedCall, WebhookDelivery } from "../../src/sandbox/github.js";

const Ajv = AjvModule as unknown as typeof AjvModule.default;
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
const require = createRequire(import.meta.url);

/** What the checks read of an answer in GitHub's OpenAPI description: its schema, or a `$ref` to a shared answer. */
interface OpenApiResponse {
  $ref?: string;
  content?: Record<string, { schema?: unknown } | undefined>;
}

/** The parts of GitHub's OpenAPI description the checks read: answers by path template, method and status. */
interface OpenApiDocument {
  paths: Record<string, Record<string, { responses?: Record<string, OpenApiResponse | undefined> } | undefined> | undefined>;
}

export interface RestCheck {
  call: string;
  template?: string;
  /** Why the answer does not match GitHub's description; empty when it does. */
  problems: string[];
}

let rest:
  | { ajv: InstanceType<typeof Ajv>; document: OpenApiDocument; templates: { template: string; pattern: RegExp; literals: number }[] }
  | undefined;

function restSchemas() {
  if (rest) return rest;
  const document = widenNullable(
    JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")),
  ) as OpenApiDocument;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document, "openapi");
  const templates = Object.keys(document.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
    literals: template.split("/").filter((segment) => segment !== "" && !segment.startsWith("{")).length,
  }));
  rest = { ajv, document, templates };
  return rest;
}

/** The OpenAPI path template a concrete path belongs to (the most specific one that matches). */
export function pathTemplate(path: string): string | undefined {
  const { templates } = restSchemas();
  const bare = path.split("?")[0]!;
  return templates.filter((candidate) => candidate.pattern.test(bare)).sort((a, b) => b.literals - a.literals)[0]?.template;
}

const validators = new Map<string, ValidateFunction>();

/** Checks one recorded REST call's answer against GitHub's description of that answer. */
export function checkRestCall(call: Pick<RecordedCall, "method" | "path" | "status" | "response">): RestCheck {
  const { ajv, document } = restSchemas();
  const label = `${call.method} ${call.path} → ${call.status}`;
  const template = pathTemplate(call.path);
  if (!template) return { call: label, problems: ["GitHub documents no such path"] };
  const operation = document.paths[template]?.[call.method.toLowerCase()];
  if (!operation) return { call: label, template, problems: [`GitHub documents no ${call.method} for ${template}`] };
  const answer = operation.responses?.[String(call.status)];
  const response = resolveRef(document, answer);
  if (!response) return { call: label, template, problems: [`GitHub documents no ${call.status} answer for ${call.method} ${template}`] };
  if (!response.content?.["application/json"]?.schema) return { call: label, template, problems: [] };
  const pointer = ["paths", template, call.method.toLowerCase(), "responses", String(call.status), "content", "application/json", "schema"];
  const ref = answer?.$ref ? `openapi${answer.$ref}/content/application~1json/schema` : `openapi#/${pointer.map(escapePointer).join("/")}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  const valid = validate(call.response);
  return {
    call: label,
    template,
    problems: valid
      ? []
      : (validate.errors ?? [])
          .slice(0, 30)
          .map((error) => `${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`),
  };
}

let webhooks: InstanceType<typeof Ajv> | undefined;

/** Checks a webhook payload against its event-and-action schema in @octokit/webhooks-schemas. */
export function checkWebhook(delivery: WebhookDelivery): string[] {
  if (!webhooks) {
    webhooks = new Ajv({ strict: false, allErrors: true });
    addFormats(webhooks);
    webhooks.addSchema(JSON.parse(readFileSync(require.resolve("@octokit/webhooks-schemas/schema.json"), "utf8")), "webhooks");
  }
  const definition = delivery.name === "push" ? "push$event" : `${delivery.name}$${String(delivery.payload.action)}`;
  const validate = webhooks.getSchema(`webhooks#/definitions/${definition}`);
  if (!validate) return [`@octokit/webhooks-schemas has no ${definition}`];
  return validate(delivery.payload)
    ? []
    : (validate.errors ?? [])
        .slice(0, 30)
        .map((error) => `${definition} ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
}

/** Problems GitHub's GraphQL schema finds in a query (none for a query GitHub accepts). */
export function checkGraphqlQuery(query: string): string[] {
  return validateGraphql(query).map((error) => error.message);
}

function resolveRef(document: OpenApiDocument, value: OpenApiResponse | undefined): OpenApiResponse | undefined {
  if (!value?.$ref) return value;
  return value.$ref
    .slice(2)
    .split("/")
    .reduce<unknown>(
      (node, key) =>
        typeof node === "object" && node !== null
          ? (node as Record<string, unknown>)[key.replace(/~1/g, "/").replace(/~0/g, "~")]
          : undefined,
      document,
    ) as OpenApiResponse | undefined;
}

function escapePointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"));
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: the schema, or null. */
function widenNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(widenNullable);
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node).map(([key, value]) => [key, widenNullable(value)] as const);
  const object = Object.fromEntries(entries);
  if (object.nullable !== true) return object;
  const { nullable: _nullable, description, example, ...schema } = object;
  return { anyOf: [schema, { type: "null" }], ...(description ? { description } : {}), ...(example !== undefined ? { example } : {}) };
}

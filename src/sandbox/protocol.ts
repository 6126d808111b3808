/**
 * The two AWS wire protocols the SDK clients speak to the simulator:
 *   - awsJson1_1 (sso-admin, identitystore, organizations): `POST /`, the operation in the
 *     `X-Amz-Target` header, a JSON object body; errors as `{"__type", "message"}` plus the
 *     `x-amzn-errortype` header;
 *   - awsQuery (sts): a form body with `Action=…`, XML answers and `<ErrorResponse>` errors.
 * Decoding never throws: whatever arrives is either a request for the model or an error response.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { JsonObject, JsonValue, Service, ServiceRequest } from "./context.js";
import { AwsError } from "./errors.js";
import { isPlainObject } from "./input.js";

export interface HttpRequestData {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpResponseData {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Decoded = { ok: true; request: ServiceRequest } | { ok: false; response: HttpResponseData };

const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

/** X-Amz-Target prefixes of the JSON services. */
const TARGET_PREFIXES: ReadonlyMap<string, Service> = new Map([
  ["SWBExternalService", "sso-admin"],
  ["AWSIdentityStore", "identitystore"],
  ["AWSOrganizationsV20161128", "organizations"],
]);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Who signed the request: the access key in SigV4's `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
export function credentialsOf(headers: IncomingHttpHeaders): { accessKeyId?: string; sessionToken?: string } {
  const accessKeyId = /Credential=([^/,\s]+)\//.exec(header(headers, "authorization") ?? "")?.[1];
  const sessionToken = header(headers, "x-amz-security-token");
  return { ...(accessKeyId !== undefined && { accessKeyId }), ...(sessionToken !== undefined && { sessionToken }) };
}

export function decodeRequest(http: HttpRequestData, requestId: string): Decoded {
  const target = header(http.headers, "x-amz-target");
  const isForm = (header(http.headers, "content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded");
  const fail = (error: AwsError, query = false): Decoded => ({
    ok: false,
    response: query ? renderQueryError(error, requestId) : renderJsonError(error, requestId),
  });

  if (http.method !== "POST") return fail(new AwsError("UnknownOperationException", "Only POST requests are served"));
  if (target !== undefined) {
    const dot = target.lastIndexOf(".");
    const service = TARGET_PREFIXES.get(target.slice(0, Math.max(dot, 0)));
    if (!service) return fail(new AwsError("UnknownOperationException", "Unknown X-Amz-Target"));
    const input = parseJsonObject(http.body);
    if (input instanceof AwsError) return fail(input);
    return { ok: true, request: { service, operation: target.slice(dot + 1), input, ...credentialsOf(http.headers) } };
  }
  if (isForm) {
    const input = Object.fromEntries(new URLSearchParams(http.body));
    const action = input.Action;
    if (!action) return fail(new AwsError("MissingAction", "Missing Action"), true);
    return { ok: true, request: { service: "sts", operation: action, input, ...credentialsOf(http.headers) } };
  }
  return fail(new AwsError("UnknownOperationException", "Requests need an X-Amz-Target header or a form body with an Action"));
}

function parseJsonObject(body: string): Record<string, unknown> | AwsError {
  // The SDK sends `{}` for operations without input; some clients send nothing at all.
  if (body.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return new AwsError("SerializationException", "The request body is not valid JSON");
  }
  return isPlainObject(parsed) ? parsed : new AwsError("SerializationException", "The request body must be a JSON object");
}

export function renderResponse(service: Service, operation: string, output: JsonObject, requestId: string): HttpResponseData {
  if (service === "sts") {
    const body =
      `<${operation}Response xmlns="${STS_NAMESPACE}">` +
      `<${operation}Result>${xmlMembers(output)}</${operation}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</${operation}Response>`;
    return { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body };
  }
  return { status: 200, headers: { "content-type": JSON_CONTENT_TYPE, "x-amzn-requestid": requestId }, body: JSON.stringify(output) };
}

export function renderError(service: Service, error: AwsError, requestId: string): HttpResponseData {
  if (service === "sts") return renderQueryError(error, requestId);
  // Organizations names the member `Message`, Identity Center `message`; the SDK reads either.
  return renderJsonError(error, requestId, service === "organizations" ? "Message" : "message");
}

/** A JSON-protocol error, also used for requests too broken to tell which service they were for. */
export function renderJsonError(error: AwsError, requestId: string, messageMember: "message" | "Message" = "message"): HttpResponseData {
  return {
    status: error.status,
    headers: { "content-type": JSON_CONTENT_TYPE, "x-amzn-requestid": requestId, "x-amzn-errortype": error.code },
    body: JSON.stringify({ __type: error.code, [messageMember]: error.message }),
  };
}

function renderQueryError(error: AwsError, requestId: string): HttpResponseData {
  const body =
    `<ErrorResponse xmlns="${STS_NAMESPACE}">` +
    `<Error><Type>${error.fault}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`;
  return { status: error.status, headers: { "content-type": "text/xml", "x-amzn-requestid": requestId }, body };
}

/** Members as awsQuery XML elements; lists as `<member>` items, as the query protocol writes them. */
function xmlMembers(object: JsonObject): string {
  let out = "";
  for (const [name, value] of Object.entries(object)) {
    if (value !== undefined && value !== null) out += `<${name}>${xmlValue(value)}</${name}>`;
  }
  return out;
}

function xmlValue(value: JsonValue): string {
  if (Array.isArray(value)) return value.map((item) => `<member>${xmlValue(item)}</member>`).join("");
  if (typeof value === "object" && value !== null) return xmlMembers(value);
  return escapeXml(String(value));
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

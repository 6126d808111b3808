/**
 * GraphQL on the local GitHub: queries are executed for real by graphql-js against GitHub's
 * published schema (@octokit/graphql-schema), so a query GitHub would reject (an unknown field, a
 * wrong argument type, a missing variable) is rejected here too, and answered as GitHub answers:
 * HTTP 200 with `errors`. Resolvers are plain objects and functions (graphql-js calls a
 * function-valued field with its arguments); abstract types resolve through `__typename`.
 */
import { schema as publishedSchema } from "@octokit/graphql-schema";
import { buildClientSchema, graphqlSync, type GraphQLFormattedError, type GraphQLSchema, type IntrospectionQuery } from "graphql";

let schema: GraphQLSchema | undefined;

/** GitHub's schema, built once per process (schema.idl does not build; schema.json does). */
export function githubSchema(): GraphQLSchema {
  schema ??= buildClientSchema(publishedSchema.json as unknown as IntrospectionQuery);
  return schema;
}

/** An error GitHub reports with a `type` (NOT_FOUND, MISSING_PAGINATION_BOUNDARIES, ...) next to its message. */
export class GitHubGraphqlError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GraphqlRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
}

export function executeGraphql(
  request: GraphqlRequest,
  rootValue: Record<string, unknown>,
): { data?: unknown; errors?: GraphQLFormattedError[] } {
  if (typeof request.query !== "string") return { errors: [{ message: "A query attribute must be specified and must be a string." }] };
  const result = graphqlSync({
    schema: githubSchema(),
    source: request.query,
    rootValue,
    variableValues: (request.variables ?? {}) as Record<string, unknown>,
    ...(typeof request.operationName === "string" ? { operationName: request.operationName } : {}),
  });
  if (!result.errors) return { data: result.data };
  const errors = result.errors.map((error) => {
    const formatted = error.toJSON() as GraphQLFormattedError & { type?: string };
    if (error.originalError instanceof GitHubGraphqlError) formatted.type = error.originalError.type;
    return formatted;
  });
  return result.data === undefined ? { errors } : { data: result.data, errors };
}

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

/** A Relay connection over `items`, with GitHub's rules: `first` or `last` is required, at most 100. */
export function connection<T>(items: readonly T[], args: ConnectionArgs, field: string, node: (item: T) => unknown) {
  const { first, last } = args;
  if (first == null && last == null)
    throw new GitHubGraphqlError(
      "MISSING_PAGINATION_BOUNDARIES",
      `You must provide a \`first\` or \`last\` value to properly paginate the \`${field}\` connection.`,
    );
  for (const [name, value] of [
    ["first", first],
    ["last", last],
  ] as const) {
    if (value != null && (value < 0 || value > 100)) {
      throw new GitHubGraphqlError(
        "EXCESSIVE_PAGINATION",
        `Requesting ${value} records on the \`${field}\` connection exceeds the \`${name}\` limit of 100 records.`,
      );
    }
  }
  let start = args.after ? decodeCursor(args.after) + 1 : 0;
  let end = args.before ? decodeCursor(args.before) : items.length;
  const windowStart = start;
  const windowEnd = end;
  if (first != null) end = Math.min(end, start + first);
  if (last != null) start = Math.max(start, end - last);
  const edges = items.slice(start, end).map((item, index) => ({ cursor: encodeCursor(start + index), node: node(item) }));
  return {
    totalCount: items.length,
    filteredCount: windowEnd - windowStart,
    pageCount: edges.length,
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: end < windowEnd,
      hasPreviousPage: start > windowStart,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

function encodeCursor(index: number): string {
  return Buffer.from(`cursor:v2:${index}`).toString("base64");
}

function decodeCursor(cursor: string): number {
  const match = /^cursor:v2:(\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"));
  if (!match) throw new GitHubGraphqlError("INVALID_CURSOR_ARGUMENTS", `\`${cursor}\` does not appear to be a valid cursor.`);
  return Number(match[1]);
}

/**
 * The IAM policies in deploy/aws are derived from the code and checked against it: every AWS
 * operation the production sources can send (each `XxxCommand` and `paginateXxx` they import from
 * an `@aws-sdk/client-*` package) must be allowed by the policy of the identity that sends it, and
 * the policies allow nothing the code does not send (apart from the `iam:` and `kms:` actions AWS
 * performs as the caller). Adding a command without its action fails here, naming the action.
 */
import { readdirSync, readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { externalIdFor } from "../../src/aws/credentials.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");
const readJson = (path: string) => JSON.parse(read(path)) as unknown;

const TENANT_PERMISSIONS = "deploy/aws/tenant-role-permissions.json";
const TENANT_TRUST = "deploy/aws/tenant-role-trust.json";
const RUNTIME_PERMISSIONS = "deploy/aws/runtime-permissions.json";

/** Each SDK package jitsudo may use: its IAM service prefix, and whose credentials send its calls. */
const SERVICES: Record<string, { prefix: string; policy: string }> = {
  "@aws-sdk/client-sso-admin": { prefix: "sso", policy: TENANT_PERMISSIONS },
  "@aws-sdk/client-identitystore": { prefix: "identitystore", policy: TENANT_PERMISSIONS },
  "@aws-sdk/client-organizations": { prefix: "organizations", policy: TENANT_PERMISSIONS },
  // STS is called with jitsudo's own identity, to assume the tenant role.
  "@aws-sdk/client-sts": { prefix: "sts", policy: RUNTIME_PERMISSIONS },
};

/**
 * Operations AWS performs for any caller, whatever its policies say (STS: "No permissions are
 * required to perform this operation"): the worker's readiness asks who its own credentials are.
 */
const NEEDS_NO_PERMISSION = new Set(["sts:GetCallerIdentity"]);

/** Actions AWS checks against the caller on top of the operation's own: not sent by the code. */
const DEPENDENT_PREFIXES = new Set(["iam", "kms"]);

interface Operation {
  file: string;
  module: string;
  /** What the code imports: `CreateAccountAssignmentCommand`, `paginateListAccounts`. */
  imported: string;
  /** The IAM action it needs: `sso:CreateAccountAssignment`. */
  action: string;
  policy: string;
}

interface SdkUse {
  operations: Operation[];
  /** Imports the scan cannot map to an operation (an aggregated client, a waiter, `import *`). */
  unmapped: string[];
}

/** The AWS operations a source file sends, read from its imports of `@aws-sdk/client-*`. */
function sdkUseIn(file: string, source: string): SdkUse {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const use: SdkUse = { operations: [], unmapped: [] };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      const module = node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) ? node.moduleSpecifier.text : undefined;
      if (module?.startsWith("@aws-sdk/client-")) readDeclaration(file, module, node, use);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      const module = argument && ts.isStringLiteral(argument) ? argument.text : undefined;
      // A computed specifier counts where the file names an AWS client package anywhere.
      if (module === undefined ? source.includes("@aws-sdk/client-") : module.startsWith("@aws-sdk/client-"))
        use.unmapped.push(`${file}: import(${module ?? "…"}) (a dynamic import of an AWS client hides what it sends)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return use;
}

function readDeclaration(file: string, module: string, node: ts.ImportDeclaration | ts.ExportDeclaration, use: SdkUse): void {
  const service = SERVICES[module];
  const names: string[] = [];
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    if (!clause || clause.isTypeOnly) return;
    if (clause.name) use.unmapped.push(`${file}: default import ${clause.name.text} from ${module}`);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) use.unmapped.push(`${file}: import * as ${bindings.name.text} from ${module}`);
    if (bindings && ts.isNamedImports(bindings))
      for (const element of bindings.elements) if (!element.isTypeOnly) names.push((element.propertyName ?? element.name).text);
  } else {
    if (node.isTypeOnly) return;
    if (!node.exportClause) use.unmapped.push(`${file}: export * from ${module}`);
    else if (ts.isNamedExports(node.exportClause))
      for (const element of node.exportClause.elements) if (!element.isTypeOnly) names.push((element.propertyName ?? element.name).text);
  }
  for (const imported of names) {
    const operation = /^paginate([A-Z]\w*)$/.exec(imported)?.[1] ?? /^([A-Z]\w*)Command$/.exec(imported)?.[1];
    if (operation !== undefined) {
      if (!service) use.unmapped.push(`${file}: ${imported} from ${module}, a package with no IAM prefix in this test`);
      else use.operations.push({ file, module, imported, action: `${service.prefix}:${operation}`, policy: service.policy });
    } else if (!/(Client|Exception)$/.test(imported)) {
      // An aggregated client (`new SSOAdmin().createAccountAssignment()`), a waiter, …: the scan
      // cannot tell which operations it sends, so it must not pass unseen.
      use.unmapped.push(`${file}: ${imported} from ${module}`);
    }
  }
}

/** Every TypeScript file of the production sources (src/sandbox is the local AWS, not production). */
function productionSources(): string[] {
  return readdirSync(new URL("src/", root), { recursive: true, encoding: "utf8" })
    .map((path) => `src/${path.split("\\").join("/")}`)
    .filter((path) => path.endsWith(".ts") && !path.startsWith("src/sandbox/"))
    .sort();
}

function productionSdkUse(): SdkUse {
  const all: SdkUse = { operations: [], unmapped: [] };
  for (const file of productionSources()) {
    const use = sdkUseIn(file, read(file));
    all.operations.push(...use.operations);
    all.unmapped.push(...use.unmapped);
  }
  return all;
}

// --- IAM policy documents ---------------------------------------------------------------------

interface Statement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const isStringOrStrings = (value: unknown): value is string | string[] =>
  typeof value === "string" || (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string"));

/** What makes a document well-formed IAM JSON, as problems (an empty list when it is). */
function policyProblems(document: unknown, kind: "permissions" | "trust"): string[] {
  const problems: string[] = [];
  if (typeof document !== "object" || document === null || Array.isArray(document)) return ["not a JSON object"];
  const { Version, Statement: statements, ...rest } = document as Record<string, unknown>;
  if (Version !== "2012-10-17") problems.push(`Version is ${JSON.stringify(Version)}, not "2012-10-17"`);
  for (const key of Object.keys(rest)) if (key !== "Id") problems.push(`unknown top-level key ${key}`);
  if (!Array.isArray(statements) || statements.length === 0) return [...problems, "Statement is not a non-empty array"];
  const sids = new Set<string>();
  statements.forEach((statement: unknown, index) => {
    const at = `Statement[${index}]`;
    if (typeof statement !== "object" || statement === null) return problems.push(`${at} is not an object`);
    const entry = statement as Record<string, unknown>;
    for (const key of Object.keys(entry))
      if (!["Sid", "Effect", "Principal", "Action", "Resource", "Condition"].includes(key))
        problems.push(`${at} has ${key} (NotAction, NotResource and NotPrincipal are not used; other keys are typos)`);
    if (entry.Sid !== undefined) {
      if (typeof entry.Sid !== "string" || !/^[A-Za-z0-9]+$/.test(entry.Sid)) problems.push(`${at}.Sid must be alphanumeric`);
      else if (sids.has(entry.Sid)) problems.push(`${at}.Sid ${entry.Sid} is not unique`);
      else sids.add(entry.Sid);
    }
    if (entry.Effect !== "Allow" && entry.Effect !== "Deny") problems.push(`${at}.Effect must be Allow or Deny`);
    if (!isStringOrStrings(entry.Action)) problems.push(`${at}.Action must be a string or a list of strings`);
    else
      for (const action of list(entry.Action))
        if (!/^[a-z0-9-]+:[A-Za-z0-9*]+$/.test(action)) problems.push(`${at}: "${action}" is no action`);
    if (kind === "permissions") {
      if (!isStringOrStrings(entry.Resource)) problems.push(`${at}.Resource must be a string or a list of strings`);
      else
        for (const resource of list(entry.Resource))
          if (resource !== "*" && !resource.startsWith("arn:")) problems.push(`${at}: "${resource}" is no ARN`);
      if (entry.Principal !== undefined) problems.push(`${at} has a Principal: permissions policies have none`);
    } else {
      if (entry.Resource !== undefined) problems.push(`${at} has a Resource: trust policies have none`);
      if (typeof entry.Principal !== "object" || entry.Principal === null) problems.push(`${at}.Principal must be an object`);
    }
    if (entry.Condition !== undefined) {
      const condition = entry.Condition;
      if (typeof condition !== "object" || condition === null || Array.isArray(condition))
        problems.push(`${at}.Condition must be an object`);
      else
        for (const [operator, keys] of Object.entries(condition))
          if (typeof keys !== "object" || keys === null || !Object.values(keys).every(isStringOrStrings))
            problems.push(`${at}.Condition.${operator} must map keys to strings`);
    }
  });
  return problems;
}

/** Whether an action is allowed by some Allow statement (actions are exact: the policies use no wildcards). */
function allows(policy: PolicyDocument, action: string): boolean {
  return policy.Statement.some((statement) => statement.Effect === "Allow" && list(statement.Action).includes(action));
}

const tenantPermissions = readJson(TENANT_PERMISSIONS) as PolicyDocument;
const tenantTrust = readJson(TENANT_TRUST) as PolicyDocument;
const runtimePermissions = readJson(RUNTIME_PERMISSIONS) as PolicyDocument;
const policies: Record<string, PolicyDocument> = {
  [TENANT_PERMISSIONS]: tenantPermissions,
  [TENANT_TRUST]: tenantTrust,
  [RUNTIME_PERMISSIONS]: runtimePermissions,
};

describe("the AWS operations the production code sends", () => {
  const use = productionSdkUse();

  it("are all read from named imports of commands and paginators the scan can map", () => {
    expect(use.unmapped).toEqual([]);
    // The scan itself works: the operations jitsudo exists for are among what it found.
    const actions = use.operations.map((operation) => operation.action);
    expect(actions).toEqual(expect.arrayContaining(["sso:CreateAccountAssignment", "sso:DeleteAccountAssignment", "sts:AssumeRole"]));
  });

  it("name commands and paginators their package really exports", async () => {
    const missing: string[] = [];
    for (const operation of use.operations) {
      const module = (await import(operation.module)) as Record<string, unknown>;
      if (typeof module[operation.imported] !== "function") missing.push(`${operation.imported} from ${operation.module}`);
    }
    expect(missing).toEqual([]);
  });

  it("are each allowed by the policy of the identity that sends them", () => {
    const missing = use.operations
      .filter((operation) => !NEEDS_NO_PERMISSION.has(operation.action) && !allows(policies[operation.policy]!, operation.action))
      .map((operation) => `${operation.action} (${operation.imported} in ${operation.file}) is not allowed by ${operation.policy}`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it("are all the policies allow: no action for an operation the code no longer sends", () => {
    const sent = new Set(use.operations.map((operation) => operation.action));
    const unused = [TENANT_PERMISSIONS, RUNTIME_PERMISSIONS].flatMap((path) =>
      policies[path]!.Statement.flatMap((statement) => list(statement.Action))
        .filter((action) => !DEPENDENT_PREFIXES.has(action.split(":")[0]!) && !sent.has(action))
        .map((action) => `${action} in ${path}`),
    );
    expect(unused).toEqual([]);
  });

  it("would fail this check for a new command without its action", () => {
    const source = [
      'import { ProvisionPermissionSetCommand, paginateListInstances } from "@aws-sdk/client-sso-admin";',
      'import { SSOAdmin } from "@aws-sdk/client-sso-admin";',
      'import * as orgs from "@aws-sdk/client-organizations";',
      'import { type STSClient, GetSessionTokenCommand } from "@aws-sdk/client-sts";',
    ].join("\n");
    const found = sdkUseIn("src/new.ts", source);
    expect(found.operations.map((operation) => operation.action)).toEqual([
      "sso:ProvisionPermissionSet",
      "sso:ListInstances",
      "sts:GetSessionToken",
    ]);
    expect(found.operations.filter((operation) => !allows(policies[operation.policy]!, operation.action)).map((op) => op.action)).toEqual([
      "sso:ProvisionPermissionSet",
      "sts:GetSessionToken",
    ]);
    expect(found.unmapped).toEqual([
      "src/new.ts: SSOAdmin from @aws-sdk/client-sso-admin",
      "src/new.ts: import * as orgs from @aws-sdk/client-organizations",
    ]);
  });
});

describe("the policy files in deploy/aws", () => {
  it.each([
    [TENANT_PERMISSIONS, "permissions"],
    [RUNTIME_PERMISSIONS, "permissions"],
    [TENANT_TRUST, "trust"],
  ] as const)("%s is well-formed IAM JSON", (path, kind) => {
    expect(policyProblems(readJson(path), kind)).toEqual([]);
  });

  it("allow no wildcard actions and only Allow statements", () => {
    for (const [path, policy] of Object.entries(policies))
      for (const statement of policy.Statement) {
        expect(statement.Effect, path).toBe("Allow");
        for (const action of list(statement.Action)) expect(action, `${path}: ${statement.Sid}`).not.toContain("*");
      }
  });

  it("scope every iam: action to the roles and SAML provider Identity Center creates", () => {
    const scoped = [
      /^arn:aws:iam::(\*|\d{12}):role\/aws-reserved\/sso\.amazonaws\.com\/\*$/,
      /^arn:aws:iam::(\*|\d{12}):saml-provider\/AWSSSO_\*$/,
    ];
    const iamStatements = tenantPermissions.Statement.filter((statement) =>
      list(statement.Action).some((action) => action.startsWith("iam:")),
    );
    expect(iamStatements.map((statement) => statement.Sid)).toEqual(["ManagementAccountAssignments"]);
    for (const statement of [
      ...iamStatements,
      ...runtimePermissions.Statement.filter((s) => list(s.Action).some((a) => a.startsWith("iam:"))),
    ])
      for (const resource of list(statement.Resource))
        expect(
          scoped.some((pattern) => pattern.test(resource)),
          resource,
        ).toBe(true);
    // The reported failures: UpdateSAMLProvider is needed where the caller creates the provider.
    expect(allows(tenantPermissions, "iam:UpdateSAMLProvider")).toBe(true);
  });

  it("scope Identity Center actions to the instance, and grant Resource * only where AWS has no resource type", () => {
    // sso:ListInstances and these Organizations actions have no resource-level permissions.
    const unscopable = new Set(["sso:ListInstances", "organizations:ListAccounts", "organizations:DescribeOrganization"]);
    for (const statement of tenantPermissions.Statement) {
      if (!list(statement.Resource).includes("*")) continue;
      expect(
        list(statement.Action).every((action) => unscopable.has(action)),
        `${statement.Sid} grants Resource *`,
      ).toBe(true);
    }
    for (const statement of tenantPermissions.Statement.filter((s) =>
      list(s.Action).some((a) => a.startsWith("sso:") && !unscopable.has(a)),
    ))
      for (const resource of list(statement.Resource))
        expect(resource, statement.Sid).toMatch(/^arn:aws:sso:::(instance|permissionSet|account)\//);
  });

  it("let a customer-managed key decrypt only through Identity Center", () => {
    const kms = tenantPermissions.Statement.find((statement) => statement.Sid === "CustomerManagedKey");
    expect(list(kms?.Action)).toEqual(["kms:Decrypt"]);
    for (const resource of list(kms?.Resource)) expect(resource).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/);
    expect(kms?.Condition?.StringLike?.["kms:ViaService"]).toEqual(["sso.*.amazonaws.com", "identitystore.*.amazonaws.com"]);
  });

  it("let jitsudo's runtime assume named tenant roles only", () => {
    const assume = runtimePermissions.Statement.filter((statement) => list(statement.Action).includes("sts:AssumeRole"));
    expect(assume.length).toBeGreaterThan(0);
    for (const statement of assume)
      for (const resource of list(statement.Resource)) expect(resource).toMatch(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/);
  });

  it("trust jitsudo's runtime with the ExternalId jitsudo sends, and every session feature the code uses", () => {
    const [statement, ...others] = tenantTrust.Statement;
    expect(others).toEqual([]);
    expect(statement?.Principal).toEqual({ AWS: "arn:aws:iam::222222222222:role/jitsudo-runtime" });
    const externalId = statement?.Condition?.StringEquals?.["sts:ExternalId"];
    const ids = typeof externalId === "string" ? /^jitsudo-(\d+)-(\d+)$/.exec(externalId) : null;
    expect(ids, `ExternalId ${String(externalId)}`).not.toBeNull();
    const [, installationId = "", repositoryId = ""] = ids ?? [];
    expect(externalId).toBe(externalIdFor(installationId, repositoryId));

    // What the AssumeRole call asks for decides what both sides must allow: tags need
    // sts:TagSession, a source identity sts:SetSourceIdentity.
    const fields = assumeRoleFields();
    expect(fields).toEqual(expect.arrayContaining(["RoleArn", "RoleSessionName", "ExternalId"]));
    const needed = ["sts:AssumeRole"];
    if (fields.includes("Tags") || fields.includes("TransitiveTagKeys")) needed.push("sts:TagSession");
    if (fields.includes("SourceIdentity")) needed.push("sts:SetSourceIdentity");
    expect(list(statement?.Action).sort()).toEqual(needed.sort());
    for (const action of needed) expect(allows(runtimePermissions, action), action).toBe(true);
  });
});

describe("the documentation of the policies", () => {
  it("says when each statement of the tenant role is needed", () => {
    const guide = read("deploy/aws/README.md");
    const undocumented = tenantPermissions.Statement.map((statement) => statement.Sid).filter((sid) => !guide.includes(`\`${sid}\``));
    expect(undocumented).toEqual([]);
  });

  it("is where the README's installation points", () => {
    const readme = read("README.md");
    const unlinked = [TENANT_PERMISSIONS, TENANT_TRUST, RUNTIME_PERMISSIONS].filter((path) => !readme.includes(`(${path})`));
    expect(unlinked).toEqual([]);
  });
});

/** The fields the production code sets on its AssumeRole requests. */
function assumeRoleFields(): string[] {
  const fields = new Set<string>();
  let calls = 0;
  for (const file of productionSources()) {
    const source = read(file);
    if (!source.includes("AssumeRoleCommand")) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "AssumeRoleCommand") {
        calls += 1;
        const [input] = node.arguments ?? [];
        if (!input || !ts.isObjectLiteralExpression(input)) throw new Error(`${file}: AssumeRoleCommand's input is not an object literal`);
        for (const property of input.properties) {
          if (!property.name || !(ts.isIdentifier(property.name) || ts.isStringLiteral(property.name)))
            throw new Error(`${file}: AssumeRoleCommand's input has a field this test cannot read`);
          fields.add(property.name.text);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  }
  if (calls === 0) throw new Error("no AssumeRoleCommand in the production sources");
  return [...fields];
}

/**
 * Reading untrusted request input. Every field is checked for type, presence and the constraints
 * of the AWS API model before any handler sees it, so handlers work with plain typed values and
 * malformed input always ends as the service's validation error, never as a crash.
 */
import { AwsError, type ValidationCode } from "./errors.js";

/** Constraint patterns from the AWS API models. */
export const PATTERNS = {
  instanceArn: /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/,
  permissionSetArn:
    /^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/,
  accountId: /^\d{12}$/,
  principalId: /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/,
  requestId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  identityStoreId: /^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  nextToken: /^[-a-zA-Z0-9+=/_]{1,2048}$/,
  roleArn: /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  roleSessionName: /^[\w+=,.@-]{2,64}$/,
  externalId: /^[\w+=,.@:/-]{2,1224}$/,
} as const;

export interface StringRule {
  pattern?: RegExp;
  maxLength?: number;
}

export interface ReaderOptions {
  /** The service's name for a constraint violation. */
  invalid: ValidationCode;
  /** awsQuery sends every value as text, so numbers arrive as digit strings. */
  numbersAsText?: boolean;
}

export class InputReader {
  constructor(
    private readonly fields: Readonly<Record<string, unknown>>,
    private readonly options: ReaderOptions,
    private readonly path = "",
  ) {}

  /** A required string member. */
  string(name: string, rule: StringRule = {}): string {
    const value = this.optionalString(name, rule);
    if (value === undefined) this.invalid(name, "Member must not be null");
    return value;
  }

  optionalString(name: string, rule: StringRule = {}): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (typeof value !== "string") this.wrongType(name, "a string");
    if (rule.maxLength !== undefined && value.length > rule.maxLength) {
      this.invalid(name, `Member must have length less than or equal to ${rule.maxLength}`);
    }
    if (rule.pattern && !rule.pattern.test(value)) {
      this.invalid(name, `Member must satisfy regular expression pattern: ${rule.pattern.source}`);
    }
    return value;
  }

  /** A required member restricted to an enumeration. */
  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const value = this.optionalOneOf(name, values);
    if (value === undefined) this.invalid(name, "Member must not be null");
    return value;
  }

  optionalOneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      this.invalid(name, `Member must satisfy enum value set: [${values.join(", ")}]`);
    }
    return value as T;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    let value = this.raw(name);
    if (value === undefined) return undefined;
    if (this.options.numbersAsText && typeof value === "string" && /^-?\d{1,16}$/.test(value)) value = Number(value);
    if (typeof value !== "number" || !Number.isInteger(value)) this.wrongType(name, "an integer");
    if (value < min) this.invalid(name, `Member must have value greater than or equal to ${min}`);
    if (value > max) this.invalid(name, `Member must have value less than or equal to ${max}`);
    return value;
  }

  /** A nested structure, read with the same rules. */
  optionalObject(name: string): InputReader | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) this.wrongType(name, "a structure");
    return new InputReader(value, this.options, `${this.path}${name}.`);
  }

  /** A member whose JSON value may be anything (Smithy `document`), such as AttributeValue. */
  optionalDocument(name: string): unknown {
    return this.raw(name);
  }

  private raw(name: string): unknown {
    // Own properties only: a body naming `__proto__` or `constructor` must not reach inherited values.
    if (!Object.hasOwn(this.fields, name)) return undefined;
    const value = this.fields[name];
    // JSON null means "not set" to the AWS deserialisers.
    return value === null ? undefined : value;
  }

  private invalid(name: string, constraint: string): never {
    throw new AwsError(
      this.options.invalid,
      `1 validation error detected: Value at '${this.path}${name}' failed to satisfy constraint: ${constraint}`,
    );
  }

  private wrongType(name: string, expected: string): never {
    // JSON services reject a wrong type while deserialising, before validation; query services only validate.
    const code = this.options.numbersAsText ? this.options.invalid : "SerializationException";
    throw new AwsError(code, `Value at '${this.path}${name}' must be ${expected}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

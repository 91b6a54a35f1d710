/**
 * The JSON Schema subset that tool `parameters` may use, and a validator for call arguments.
 * Supported: type, properties, required, additionalProperties (boolean), enum, items,
 * minimum/maximum, minLength/maxLength, minItems/maxItems, plus annotations (description,
 * title, default). Anything else (pattern, $ref, oneOf…) is rejected when a scenario loads,
 * so a schema never silently means less than it says. Not covered: formats, regex patterns.
 */
import { z } from "zod";

export const JsonValue = z.json();
export type JsonValue = z.infer<typeof JsonValue>;
export type JsonObject = { [key: string]: JsonValue };

const JsonType = z.enum(["object", "array", "string", "number", "integer", "boolean", "null"]);

export const ParamSchema = z.strictObject({
  type: JsonType.optional(),
  description: z.string().max(500).optional(),
  title: z.string().max(200).optional(),
  default: JsonValue.optional(),
  enum: z.array(JsonValue).min(1).max(100).optional(),
  get properties() {
    return z.record(z.string(), ParamSchema).optional();
  },
  required: z.array(z.string()).optional(),
  additionalProperties: z.boolean().optional(),
  get items() {
    return ParamSchema.optional();
  },
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  minLength: z.number().int().min(0).optional(),
  maxLength: z.number().int().min(0).optional(),
  minItems: z.number().int().min(0).optional(),
  maxItems: z.number().int().min(0).optional(),
});
export type ParamSchema = z.infer<typeof ParamSchema>;

/** Deeper argument values than this are rejected, so hostile nesting cannot blow the stack. */
export const MAX_VALUE_DEPTH = 16;
const MAX_ERRORS = 5;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeOf(value: JsonValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return !Number.isFinite(value) ? "a non-finite number" : Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function hasType(value: JsonValue, type: z.infer<typeof JsonType>): boolean {
  const actual = typeOf(value);
  if (type === "number") return actual === "number" || actual === "integer";
  return actual === type;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Errors of `value` against `schema`, each prefixed with its path (`arguments.amount: …`);
 * empty when valid. At most a few errors are reported; the walk is bounded by MAX_VALUE_DEPTH.
 */
export function schemaErrors(value: JsonValue, schema: ParamSchema, path = "arguments"): string[] {
  const errors: string[] = [];
  walk(value, schema, path, 0, errors);
  return errors.slice(0, MAX_ERRORS);
}

function walk(value: JsonValue, schema: ParamSchema, path: string, depth: number, errors: string[]): void {
  if (errors.length >= MAX_ERRORS) return;
  if (depth > MAX_VALUE_DEPTH) {
    errors.push(`${path}: nested deeper than ${MAX_VALUE_DEPTH} levels`);
    return;
  }
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    errors.push(`${path}: expected ${schema.type}, got ${typeOf(value)}`);
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => sameJson(e, value))) {
    errors.push(`${path}: expected one of ${JSON.stringify(schema.enum).slice(0, 200)}`);
    return;
  }
  if (typeof value === "number") checkNumber(value, schema, path, errors);
  else if (typeof value === "string") checkLength(value.length, schema.minLength, schema.maxLength, `${path}: length`, errors);
  else if (Array.isArray(value)) {
    checkLength(value.length, schema.minItems, schema.maxItems, `${path}: item count`, errors);
    if (schema.items !== undefined) value.forEach((v, i) => walk(v, schema.items!, `${path}[${i}]`, depth + 1, errors));
  } else if (isJsonObject(value)) checkObject(value, schema, path, depth, errors);
}

function checkNumber(value: number, schema: ParamSchema, path: string, errors: string[]): void {
  if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
  if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
}

function checkLength(n: number, min: number | undefined, max: number | undefined, what: string, errors: string[]): void {
  if (min !== undefined && n < min) errors.push(`${what} ${n} is below ${min}`);
  if (max !== undefined && n > max) errors.push(`${what} ${n} is above ${max}`);
}

function checkObject(value: JsonObject, schema: ParamSchema, path: string, depth: number, errors: string[]): void {
  const properties = schema.properties ?? {};
  for (const key of schema.required ?? []) {
    if (!Object.hasOwn(value, key)) errors.push(`${path}: missing required "${key}"`);
  }
  for (const [key, child] of Object.entries(value)) {
    const sub = Object.hasOwn(properties, key) ? properties[key] : undefined;
    if (sub !== undefined) walk(child, sub, `${path}.${key}`, depth + 1, errors);
    else if (schema.additionalProperties === false) errors.push(`${path}: unexpected "${key.slice(0, 40)}"`);
  }
}

/**
 * Small readers of parsed JSON for the hand-written request parsers: each checks one field's type
 * and bounds and throws an InvalidTaskError naming the field (dotted path). Throwing keeps the
 * parsers linear; the exported parse functions catch and return the error instead.
 * Hand-written rather than a schema library: no per-request allocation beyond the result, and the
 * error reasons (time format vs request shape vs URL) come out exactly as the API's codes need.
 */
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { invalidRequest } from '../api.error';

export type JsonObject = Readonly<Record<string, unknown>>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Runs a throwing parser and returns its InvalidTaskError instead; anything else is rethrown (a bug). */
export function catchInvalid<T>(parse: () => T): T | InvalidTaskError {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidTaskError) return error;
    throw error;
  }
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `a string`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function expectObject(
  value: unknown,
  field: string | undefined,
  what = 'an object',
): JsonObject {
  if (!isJsonObject(value))
    throw invalidRequest(
      field,
      `${field ?? 'the request body'} must be ${what}, got ${describeJson(value)}`,
    );
  return value;
}

/** Refuses a key not in `allowed` (the /v1 rule), naming it. */
export function refuseUnknownFields(
  object: JsonObject,
  allowed: ReadonlySet<string>,
  prefix: string,
): void {
  for (const key in object) {
    if (!allowed.has(key))
      throw invalidRequest(`${prefix}${key}`, `unknown field ${JSON.stringify(`${prefix}${key}`)}`);
  }
}

export function optionalString(
  object: JsonObject,
  key: string,
  field: string,
  maxChars: number,
): string | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw invalidRequest(field, `${field} must be a string, got ${describeJson(value)}`);
  if (value.length === 0 || value.length > maxChars)
    throw invalidRequest(field, `${field} must be 1 to ${maxChars} characters long`);
  return value;
}

export function optionalInteger(
  object: JsonObject,
  key: string,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalidRequest(
      field,
      `${field} must be an integer from ${min} to ${max}, got ${describeJson(value)}`,
    );
  return value;
}

export function optionalOneOf<const V extends string>(
  object: JsonObject,
  key: string,
  field: string,
  values: readonly V[],
): V | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  const match = values.find((candidate) => candidate === value);
  if (match === undefined)
    throw invalidRequest(
      field,
      `${field} must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeJson(value)}`,
    );
  return match;
}

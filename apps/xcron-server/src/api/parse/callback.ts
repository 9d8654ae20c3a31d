/**
 * `callback: {url, body?, headers?}` → the scheduler's CallbackSpec. This checks JSON shapes and
 * types only; the URL and header rules are the dispatcher's (`validateCallbackUrl`,
 * `validateCallbackHeaders`), applied here to fail fast with the field's path. The scheduler
 * applies the same rules to every task, plus the `allowed_callback_hosts` allow-list.
 */
import { validateCallbackHeaders, validateCallbackUrl } from '@xcron/dispatcher';
import type { CallbackSpec } from '@xcron/scheduler/task/task.model';
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { invalidRequest } from '../api.error';
import {
  describeJson,
  expectObject,
  isJsonObject,
  refuseUnknownFields,
  type JsonObject,
} from './json-fields';

const CALLBACK_FIELDS: ReadonlySet<string> = new Set(['url', 'body', 'headers']);

export interface CallbackParseOptions {
  /** /v1: unknown keys in `callback` are refused; the seed ignores them as the original did. */
  readonly strict: boolean;
}

function urlInvalid(field: string, message: string): InvalidTaskError {
  return new InvalidTaskError('callback_url_invalid', field, message);
}

/**
 * URLs accepted lately: most clients send one or a few callback URLs, and `new URL` is the
 * costliest step of parsing a task (~3 µs). Cleared when full, so it stays small.
 */
const ACCEPTED_URLS_MAX = 1024;
const acceptedUrls = new Set<string>();

/** A non-empty string that the dispatcher's `validateCallbackUrl` accepts. */
export function parseCallbackUrl(value: unknown, field: string): string {
  if (typeof value === 'string' && acceptedUrls.has(value)) return value;
  if (typeof value !== 'string' || value === '')
    throw urlInvalid(
      field,
      `${field} must be an http(s) URL, got ${value === '' ? 'an empty string' : describeJson(value)}`,
    );
  const problem = validateCallbackUrl(value);
  if (problem !== undefined) throw urlInvalid(field, problem);
  if (acceptedUrls.size >= ACCEPTED_URLS_MAX) acceptedUrls.clear();
  acceptedUrls.add(value);
  return value;
}

/** An object of string values that the dispatcher's `validateCallbackHeaders` accepts. */
function parseHeaders(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const object = expectObject(value, field, 'an object of header names to string values');
  const headers: Record<string, string> = {};
  for (const name in object) {
    const headerValue = object[name];
    if (typeof headerValue !== 'string') {
      const headerField = `${field}.${name}`;
      throw invalidRequest(
        headerField,
        `${headerField} must be a string, got ${describeJson(headerValue)}`,
      );
    }
    headers[name] = headerValue;
  }
  const problem = validateCallbackHeaders(headers);
  if (problem !== undefined) throw invalidRequest(field, problem);
  return headers;
}

/**
 * `callback: {url, body?, headers?}`. A missing callback or URL is a callback URL error (1003),
 * as the original answered; `body` is any JSON value and defaults to `{}`.
 */
export function parseCallback(
  value: unknown,
  field: string,
  options: CallbackParseOptions,
): CallbackSpec {
  if (value === undefined) throw urlInvalid(`${field}.url`, `${field}.url is required`);
  const object: JsonObject = expectObject(value, field);
  if (options.strict) refuseUnknownFields(object, CALLBACK_FIELDS, `${field}.`);
  const url = parseCallbackUrl(object.url, `${field}.url`);
  const headers = parseHeaders(object.headers, `${field}.headers`);
  const body = object.body === undefined ? {} : object.body;
  return headers === undefined ? { url, body } : { url, body, headers };
}

/**
 * parseCallback(value, `${prefix}callback`, options), the same result and the same errors, with
 * a fast path for the common callback — `{url, body}` with a URL accepted lately — that builds no
 * field path (a batch parses 1,000 callbacks; the paths are only for errors).
 */
export function parseCallbackAt(
  value: unknown,
  prefix: string,
  options: CallbackParseOptions,
): CallbackSpec {
  if (isJsonObject(value) && value.headers === undefined && acceptedUrls.has(value.url as string)) {
    let known = true;
    if (options.strict)
      for (const key in value)
        if (!CALLBACK_FIELDS.has(key)) {
          known = false;
          break;
        }
    if (known)
      return { url: value.url as string, body: value.body === undefined ? {} : value.body };
  }
  return parseCallback(value, `${prefix}callback`, options);
}

import type { CallbackSpec } from '@xcron/scheduler/task/task.model';
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import {
  CALLBACK_HEADERS_COUNT_MAX,
  CALLBACK_HEADER_VALUE_CHARS_MAX,
  CALLBACK_URL_CHARS_MAX,
} from '../api.limits';
import type { CallbackHostAllowList } from '../api.options';
import { invalidRequest } from '../api.error';
import { describeJson, expectObject, refuseUnknownFields, type JsonObject } from './json-fields';

const CALLBACK_FIELDS: ReadonlySet<string> = new Set(['url', 'body', 'headers']);
// RFC 9110 token characters.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible characters, spaces and tabs; no CR / LF (header injection) and no other controls.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers xcron sets itself, or that belong to the connection rather than the request. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'idempotency-key',
  'content-length',
  'content-type',
  'host',
  'connection',
  'transfer-encoding',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

export interface CallbackParseOptions {
  readonly allowList: CallbackHostAllowList | undefined;
  /** /v1: unknown keys in `callback` are refused; the seed ignores them as the original did. */
  readonly strict: boolean;
}

function urlInvalid(field: string, message: string): InvalidTaskError {
  return new InvalidTaskError('callback_url_invalid', field, message);
}

/**
 * URLs accepted lately, per allow-list: most clients send one or a few callback URLs, and `new URL`
 * is the costliest step of parsing a task (~3 µs). Cleared when full, so it stays small.
 */
const ACCEPTED_URLS_MAX = 1024;
const acceptedUrls = new WeakMap<CallbackHostAllowList | typeof ANY_HOST, Set<string>>();
const ANY_HOST = {};

/** An absolute http: or https: URL, on an allowed host when there is an allow-list. */
export function parseCallbackUrl(
  value: unknown,
  field: string,
  allowList: CallbackHostAllowList | undefined,
): string {
  const cacheKey = allowList ?? ANY_HOST;
  let accepted = acceptedUrls.get(cacheKey);
  if (accepted === undefined) acceptedUrls.set(cacheKey, (accepted = new Set()));
  if (typeof value === 'string' && accepted.has(value)) return value;
  const url = checkCallbackUrl(value, field, allowList);
  if (accepted.size >= ACCEPTED_URLS_MAX) accepted.clear();
  accepted.add(url);
  return url;
}

function checkCallbackUrl(
  value: unknown,
  field: string,
  allowList: CallbackHostAllowList | undefined,
): string {
  if (typeof value !== 'string' || value === '')
    throw urlInvalid(
      field,
      `${field} must be an http(s) URL, got ${value === '' ? 'an empty string' : describeJson(value)}`,
    );
  if (value.length > CALLBACK_URL_CHARS_MAX)
    throw urlInvalid(field, `${field} is longer than ${CALLBACK_URL_CHARS_MAX} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw urlInvalid(field, `${field} is not an absolute URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw urlInvalid(field, `${field} must use http: or https:, got ${url.protocol}`);
  if (url.hostname === '') throw urlInvalid(field, `${field} has no host`);
  if (allowList !== undefined && !hostAllowed(url, allowList))
    throw urlInvalid(field, `${field} host ${url.host} is not in the callback host allow-list`);
  return value;
}

function hostAllowed(url: URL, allowList: CallbackHostAllowList): boolean {
  // URL lower-cases host names already; IPv6 hosts keep their brackets in both forms.
  if (allowList.exact.has(url.hostname) || allowList.exact.has(url.host)) return true;
  return allowList.suffixes.some((suffix) => url.hostname.endsWith(suffix));
}

function parseHeaders(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const object = expectObject(value, field, 'an object of header names to string values');
  const headers: Record<string, string> = {};
  let count = 0;
  for (const name in object) {
    const headerValue = object[name];
    const headerField = `${field}.${name}`;
    if (++count > CALLBACK_HEADERS_COUNT_MAX)
      throw invalidRequest(field, `${field} has more than ${CALLBACK_HEADERS_COUNT_MAX} headers`);
    if (!HEADER_NAME.test(name))
      throw invalidRequest(headerField, `${JSON.stringify(name)} is not a valid header name`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || lower.startsWith('x-xcron-'))
      throw invalidRequest(headerField, `header ${name} is set by xcron and cannot be given`);
    if (typeof headerValue !== 'string')
      throw invalidRequest(
        headerField,
        `${headerField} must be a string, got ${describeJson(headerValue)}`,
      );
    if (headerValue.length > CALLBACK_HEADER_VALUE_CHARS_MAX || !HEADER_VALUE.test(headerValue))
      throw invalidRequest(
        headerField,
        `${headerField} must be at most ${CALLBACK_HEADER_VALUE_CHARS_MAX} printable characters (no line breaks)`,
      );
    headers[name] = headerValue;
  }
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
  const url = parseCallbackUrl(object.url, `${field}.url`, options.allowList);
  const headers = parseHeaders(object.headers, `${field}.headers`);
  const body = object.body === undefined ? {} : object.body;
  return headers === undefined ? { url, body } : { url, body, headers };
}

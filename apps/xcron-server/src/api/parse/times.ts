/**
 * Time fields on the wire → unix milliseconds. Only the FORM is checked here ("is this unix
 * seconds?"); whether a time is in the past is the scheduler's call, with its clock.
 */
import { InvalidTaskError } from '@xcron/scheduler/task/task.errors';
import { UNIX_MS_MAX, UNIX_SECONDS_MAX } from '../api.limits';
import { invalidRequest } from '../api.error';
import { describeJson } from './json-fields';

const DIGITS = /^[0-9]{1,15}$/;

function timeFormat(field: string, message: string): InvalidTaskError {
  return new InvalidTaskError('time_format_invalid', field, message);
}

/**
 * Seed times: unix SECONDS as a digits string ("1767225600") or a JSON integer. Another JSON type
 * is a malformed request (1000); a string that is not digits, a fraction, a negative number or a
 * value over UNIX_SECONDS_MAX (9999-12-31, so e.g. a millisecond timestamp) is a time format error
 * (1001).
 */
export function unixSecondsToMs(value: unknown, field: string): number {
  let seconds: number;
  if (typeof value === 'string') {
    if (!DIGITS.test(value))
      throw timeFormat(
        field,
        `${field} must be unix seconds (digits only), got ${JSON.stringify(value)}`,
      );
    seconds = Number(value);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0)
      throw timeFormat(
        field,
        `${field} must be unix seconds (a whole non-negative number), got ${value}`,
      );
    seconds = value;
  } else {
    throw invalidRequest(
      field,
      `${field} must be unix seconds as a string or number, got ${describeJson(value)}`,
    );
  }
  if (seconds > UNIX_SECONDS_MAX)
    throw timeFormat(
      field,
      `${field} ${seconds} is after the year 9999 in unix seconds: milliseconds? send seconds`,
    );
  return seconds * 1000;
}

/** Whether unixMs takes `value` as it is (no error to build, so no field path needed). */
export function isUnixMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= UNIX_MS_MAX;
}

/** /v1 `*_ms` fields: a JSON integer of unix milliseconds, 0 to 9999-12-31. */
export function unixMs(value: unknown, field: string): number {
  if (typeof value !== 'number')
    throw invalidRequest(
      field,
      `${field} must be unix milliseconds (a number), got ${describeJson(value)}`,
    );
  if (!Number.isInteger(value) || value < 0 || value > UNIX_MS_MAX)
    throw timeFormat(
      field,
      `${field} must be whole unix milliseconds from 0 to ${UNIX_MS_MAX}, got ${value}`,
    );
  return value;
}

// RFC 3339 date-time: an offset is required (no local times); fractions up to nanoseconds.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** /v1 time strings: RFC 3339 with an offset, e.g. "2026-01-01T09:00:00Z" or "…+01:00". */
export function rfc3339ToMs(value: unknown, field: string): number {
  if (typeof value !== 'string')
    throw invalidRequest(field, `${field} must be an RFC 3339 string, got ${describeJson(value)}`);
  const match = RFC3339.exec(value);
  if (match === null)
    throw timeFormat(
      field,
      `${field} must be RFC 3339 with an offset, such as "2026-01-01T09:00:00Z", got ${JSON.stringify(value)}`,
    );
  const [, year, month, day, hour, minute, second] = match;
  // Date.parse rolls 2026-02-30 over to March: compare the fields back to catch that.
  const ms = Date.parse(value.replace(' ', 'T').replace(/\.(\d{3})\d+/, '.$1'));
  const utc = new Date(Date.UTC(+year, +month - 1, +day, +hour, +minute, +second));
  if (
    Number.isNaN(ms) ||
    ms < 0 ||
    ms > UNIX_MS_MAX ||
    utc.getUTCMonth() !== +month - 1 ||
    utc.getUTCDate() !== +day ||
    +hour > 23 ||
    +minute > 59 ||
    +second > 59
  )
    throw timeFormat(field, `${field} is not a valid date and time: ${JSON.stringify(value)}`);
  return ms;
}

import { CronExpression, CronExpressionParser } from 'cron-parser';
import { InvalidTaskError } from '../task/task.errors';

/**
 * Turns a crontab into a cron-parser expression, refusing what cron-parser would let through or
 * explain badly: a wrong number of fields (it reads "" and "* * * *" as every minute), `H` (random
 * per process unless seeded, so replicas would disagree), and errors that do not say which field.
 */

/** Aliases, lower case, as 6-field crontabs. @midnight is Vixie cron's name for @daily. */
const ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
  '@minutely': '0 * * * * *',
  '@secondly': '* * * * * *',
  '@weekdays': '0 0 0 * * 1-5',
  '@weekends': '0 0 0 * * 0,6',
};

const SIX_FIELD_NAMES = [
  'second',
  'minute',
  'hour',
  'day-of-month',
  'month',
  'day-of-week',
] as const;

/** Long enough for any sensible list; bounds the parser's work on hostile input. */
const MAX_EXPRESSION_LENGTH = 256;

/** `H` as a token of its own (THU contains an H too). */
const HASH_TOKEN = /(^|[^A-Z])H([^A-Z]|$)/i;

/** A crontab as a canonical 6-field string (single spaces, aliases expanded), or a thrown error. */
export function normalizeCrontab(expression: string): string {
  if (typeof expression !== 'string') {
    throw invalid(`crontab must be a string`);
  }
  const trimmed = expression.trim();
  if (trimmed.length > MAX_EXPRESSION_LENGTH) {
    throw invalid(`crontab is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (trimmed.startsWith('@')) {
    const expanded = ALIASES[trimmed.toLowerCase()];
    if (expanded === undefined) {
      throw invalid(
        `crontab ${JSON.stringify(trimmed)}: unknown alias; use one of ${Object.keys(ALIASES).join(', ')} (@reboot and @every are not supported)`,
      );
    }
    return expanded;
  }
  const fields = trimmed === '' ? [] : trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw invalid(
      `crontab ${JSON.stringify(trimmed)} has ${fields.length} field${fields.length === 1 ? '' : 's'}; expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)`,
    );
  }
  const sixFields = fields.length === 5 ? ['0', ...fields] : fields;
  sixFields.forEach((field, index) => {
    if (HASH_TOKEN.test(field)) {
      throw invalid(
        `crontab ${JSON.stringify(trimmed)}: ${SIX_FIELD_NAMES[index]} ${JSON.stringify(field)}: H (hashed value) is not supported; give the value explicitly`,
      );
    }
  });
  return sixFields.join(' ');
}

/**
 * Parses a normalized 6-field crontab (see normalizeCrontab) for a canonical zone. `original` is
 * what the client wrote, quoted in messages.
 */
export function parseCrontab(
  sixFields: string,
  timeZone: string,
  original: string,
): CronExpression {
  try {
    return CronExpressionParser.parse(sixFields, { tz: timeZone, currentDate: 0 });
  } catch (error) {
    throw invalid(`crontab ${JSON.stringify(original.trim())}: ${explain(sixFields, error)}`);
  }
}

/** Names the field cron-parser objected to by parsing each field alone, and adds a hint. */
function explain(sixFields: string, error: unknown): string {
  const fields = sixFields.split(' ');
  for (let index = 0; index < fields.length; index++) {
    const alone = fields.map((field, other) => (other === index ? field : '*')).join(' ');
    try {
      CronExpressionParser.parse(alone, { currentDate: 0 });
    } catch (fieldError) {
      const field = fields[index];
      return `${SIX_FIELD_NAMES[index]} ${JSON.stringify(field)}: ${messageOf(fieldError)}${hintFor(field)}`;
    }
  }
  if (messageOf(error) === 'Invalid explicit day of month definition') {
    return `day-of-month ${JSON.stringify(fields[3])} never occurs in month ${JSON.stringify(fields[4])}`;
  }
  return messageOf(error);
}

function hintFor(field: string): string {
  if (/W/i.test(field)) return ' (W, nearest weekday, is not supported)';
  if (/L-\d/i.test(field)) return ' (L-n, n days before the last, is not supported)';
  return '';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function invalid(message: string): InvalidTaskError {
  return new InvalidTaskError('cron_invalid', 'format', message);
}

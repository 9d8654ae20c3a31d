import { InvalidTaskError } from '../task/task.errors';

/**
 * Checks an IANA time zone name and returns ICU's canonical spelling of it (`america/new_york` ->
 * `America/New_York`, `EST5EDT` -> `America/New_York`).
 *
 * cron-parser does not reject an unknown zone when parsing: `next()` throws later and `take()`
 * quietly returns nothing, so the check has to happen here, before a task is accepted. Intl is the
 * judge because cron-parser's date library answers zone questions through Intl as well; names Intl
 * knows but that are not IANA zones (there are none in Node 20's ICU that cron-parser refuses) would
 * surface as a failed probe in compileCron.
 */
export function canonicalTimeZone(timeZone: string): string {
  // Building an Intl.DateTimeFormat costs tens of µs, and every next-fire computation of a task
  // in a zone asks: remember the answers (there are a few hundred zone names at most).
  const known = canonicalZones.get(timeZone);
  if (known !== undefined) return known;
  const canonical = resolveTimeZone(timeZone);
  if (canonicalZones.size >= CANONICAL_ZONES_MAX) canonicalZones.clear();
  canonicalZones.set(timeZone, canonical);
  return canonical;
}

const CANONICAL_ZONES_MAX = 2_000;
const canonicalZones = new Map<string, string>();

function resolveTimeZone(timeZone: string): string {
  if (typeof timeZone !== 'string' || timeZone.trim() === '') {
    throw new InvalidTaskError(
      'timezone_invalid',
      'timezone',
      'timezone must be a non-empty IANA time zone name such as "Europe/Berlin"',
    );
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidTaskError(
      'timezone_invalid',
      'timezone',
      `timezone ${JSON.stringify(timeZone)} is not an IANA time zone name (such as "Europe/Berlin" or "UTC")`,
    );
  }
}

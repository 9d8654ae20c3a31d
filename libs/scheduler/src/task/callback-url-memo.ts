import { validateCallbackUrl } from '@xcron/dispatcher';

/** URLs remembered; past this the memo starts over (a bound, not an LRU: URLs mostly repeat). */
const URLS_MAX = 256;
/** Stands for "no problem" in the map (validateCallbackUrl's undefined). */
const ACCEPTABLE = '';

const problems = new Map<string, string>();

/**
 * validateCallbackUrl, remembered for recent URLs: the tasks of a batch, and the creates of one
 * client, mostly share their callback URL, and parsing it (`new URL`) was the largest cost of
 * checking a task. The answer depends on the URL string alone.
 */
export function callbackUrlProblem(url: string): string | undefined {
  const known = problems.get(url);
  if (known !== undefined) return known === ACCEPTABLE ? undefined : known;
  const problem = validateCallbackUrl(url);
  if (problems.size >= URLS_MAX) problems.clear();
  problems.set(url, problem ?? ACCEPTABLE);
  return problem;
}

/**
 * "Did you mean …?" for an unknown config key. Kept apart from the loader because it is pure string
 * work and easy to test on its own.
 */

/** Edit distance counting a swap of two neighbouring letters as one edit (`http_prot` → `http_port`). */
export function editDistance(a: string, b: string): number {
  // d[i][j] = distance between the first i letters of a and the first j letters of b.
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        d[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2][j - 2] + 1);
      d[i].push(best);
    }
  }
  return d[a.length][b.length];
}

const tableOf = (dotted: string): string => dotted.slice(0, Math.max(0, dotted.lastIndexOf('.')));
const leafOf = (dotted: string): string => dotted.slice(dotted.lastIndexOf('.') + 1);

/**
 * The known dotted key nearest to `unknown`, or undefined when none is near enough to be a likely
 * typo. A key whose name matches but sits in another table counts as one edit away: that is the
 * common TOML slip of writing a top-level key below a `[peer]` header, or `peer_hosts` without it.
 * Case is ignored: TOML keys are case-sensitive, and `HTTP_PORT` is still a typo of `http_port`.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const leaf = leafOf(unknown).toLowerCase();
  // About one typo per three letters; short keys such as "env" still allow one.
  const maxEdits = Math.max(1, Math.floor(leaf.length / 3));
  let best: { key: string; edits: number } | undefined;
  for (const key of known) {
    const sameTable = tableOf(key) === tableOf(unknown);
    // Keys carry their unit (`body_limit_bytes`, `*_ms`): a name without it is one edit away.
    const unitLeftOut = leafOf(key).startsWith(`${leaf}_`);
    const edits = (unitLeftOut ? 1 : editDistance(leaf, leafOf(key))) + (sameTable ? 0 : 1);
    if (edits <= maxEdits && (best === undefined || edits < best.edits)) best = { key, edits };
  }
  return best?.key;
}

/** The hint after an unknown-key error, phrased by where the suggested key lives. */
export function suggestionFor(unknown: string, suggestion: string): string {
  const table = tableOf(suggestion);
  if (table === tableOf(unknown)) return `did you mean ${leafOf(suggestion)}?`;
  if (table === '') return `did you mean ${suggestion}? It belongs before the first [table] header`;
  return `did you mean ${leafOf(suggestion)} in the [${table}] table?`;
}

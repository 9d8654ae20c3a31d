import { createHash } from 'node:crypto';
import type { TaskSpec } from '../task/task.model';

/** A digest of the spec's JSON with sorted keys: two specs that mean the same give the same digest. */
export function specDigestOf(spec: TaskSpec): string {
  const json = JSON.stringify(spec, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(
          Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : value,
  );
  return createHash('sha256').update(json).digest('base64url').slice(0, 22);
}

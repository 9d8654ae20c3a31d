export interface BackoffLimits {
  backoffMsMin: number;
  backoffMsMax: number;
}

/**
 * Delay before reconnect attempt number `failures` (1 after the first failure): exponential,
 * `backoffMsMin * 2^(failures-1)` capped at `backoffMsMax`, with "equal jitter" — a uniformly
 * random point in the upper half of that ceiling. The lower half keeps a minimum spacing between
 * attempts; the random half keeps the nodes of a restarted cluster from dialing in lockstep.
 * `random` returns values in [0, 1); it is injected so that tests and simulations can replay it.
 */
export function reconnectDelayMs(
  failures: number,
  limits: BackoffLimits,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30); // 2^30 is beyond any sane cap
  const ceilingMs = Math.min(limits.backoffMsMax, limits.backoffMsMin * 2 ** exponent);
  const fraction = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceilingMs / 2 + (ceilingMs / 2) * fraction);
}

// Latency-aware choice among equal-rank targets. Each target's latency is an exponentially
// weighted moving average of what its successful attempts took; the primary is chosen by the
// power of two choices: draw two distinct healthy targets at random and take the faster. That
// follows the fast ones without sending the whole herd to whichever looked best a moment ago.
// Pure: the averages, health and both draws are passed in.

export interface LatencyStat {
  /** The moving average, in ms. */
  ewmaMs: number;
  samples: number;
}

/** Weight of the newest sample in the moving average. */
export const DEFAULT_ALPHA = 0.3;

/** Folds one observed latency into the average; the first sample is taken as it is. */
export function ewmaStep(
  prev: LatencyStat | undefined,
  sampleMs: number,
  alpha = DEFAULT_ALPHA,
): LatencyStat {
  if (!prev) return { ewmaMs: sampleMs, samples: 1 };
  return { ewmaMs: prev.ewmaMs + alpha * (sampleMs - prev.ewmaMs), samples: prev.samples + 1 };
}

export interface LatencyView {
  /** The average for a target, or undefined before its first sample. */
  latencyMs(target: string): number | undefined;
  /** False while the target's breaker is open, its model cooled down or every key is blocked. */
  healthy(target: string): boolean;
}

/**
 * The order to try `targets` in: the P2C winner first, the other healthy targets from fastest to
 * slowest, then the unhealthy ones (kept, so that when all are down the supervisor still skips
 * each with its Retry-After and the client gets the soonest). A target with no sample yet counts
 * as fastest, so every target gets measured. `draws` are two numbers in [0, 1).
 */
export function p2cOrder(
  targets: readonly string[],
  view: LatencyView,
  draws: readonly [number, number],
): string[] {
  const healthy: number[] = [];
  const unhealthy: number[] = [];
  targets.forEach((t, k) => (view.healthy(t) ? healthy : unhealthy).push(k));
  if (healthy.length === 0) return [...targets];
  const cost = (k: number) => view.latencyMs(targets[k]) ?? 0;
  let first = healthy[0];
  const n = healthy.length;
  if (n > 1) {
    const i = Math.min(n - 1, Math.floor(draws[0] * n));
    let j = Math.min(n - 2, Math.floor(draws[1] * (n - 1)));
    if (j >= i) j++;
    first = cost(healthy[j]) < cost(healthy[i]) ? healthy[j] : healthy[i];
  }
  const rest = healthy.filter((k) => k !== first).sort((a, b) => cost(a) - cost(b) || a - b);
  return [first, ...rest, ...unhealthy].map((k) => targets[k]);
}

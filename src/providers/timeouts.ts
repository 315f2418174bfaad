// The timeouts of one upstream attempt, and how a model's are found: its own override in config,
// else its provider's, else the gateway's top-level `timeouts`, else the defaults here. config.ts
// resolves those layers once at start-up; on the hot path a lookup returns a shared object.

/** What bounds one attempt. Every deadline counts from the attempt's start unless it says not. */
export interface AttemptTimeouts {
  /** No response headers within it → `timeout` (JSON and streams; for JSON the headers usually
   * come with the whole answer). */
  headersMs: number;
  /** Streams: no first content within it → `timeout`, and the supervisor falls over. */
  firstTokenMs: number;
  /** Streams, after the first content: no upstream event for it → the stream stalled (`timeout`). */
  idleMs: number;
  /** The whole attempt, a committed stream included. */
  totalMs: number;
}

/** Any of the four, as a provider or a model may set them. */
export type TimeoutOverrides = Partial<AttemptTimeouts>;

export const DEFAULT_TIMEOUTS: Readonly<AttemptTimeouts> = Object.freeze({
  headersMs: 30_000,
  firstTokenMs: 10_000,
  idleMs: 10_000,
  totalMs: 120_000,
});

/** The whole-call budget across every attempt and retry wait of one request. */
export const DEFAULT_REQUEST_MS = 180_000;

/** Each field from the first layer (most specific first) that sets it, else the default. */
export function resolveTimeouts(...layers: (TimeoutOverrides | undefined)[]): AttemptTimeouts {
  const pick = (k: keyof AttemptTimeouts) => {
    for (const l of layers) if (l?.[k] !== undefined) return l[k];
    return DEFAULT_TIMEOUTS[k];
  };
  return {
    headersMs: pick("headersMs"),
    firstTokenMs: pick("firstTokenMs"),
    idleMs: pick("idleMs"),
    totalMs: pick("totalMs"),
  };
}

/**
 * `model → its timeouts`: the model's own resolved entry, else `base`. Allocates nothing per call
 * (the objects are built once), so it can sit on every attempt's path.
 */
export function timeoutsLookup(
  base: AttemptTimeouts,
  models: Readonly<Record<string, AttemptTimeouts>> = {},
): (model: string) => AttemptTimeouts {
  const byModel = new Map(Object.entries(models));
  if (byModel.size === 0) return () => base;
  return (model) => byModel.get(model) ?? base;
}

const filled = new WeakMap<TimeoutOverrides, AttemptTimeouts>();

/** `overrides` over the defaults, built once per overrides object. */
export function withDefaultTimeouts(overrides: TimeoutOverrides): AttemptTimeouts {
  let t = filled.get(overrides);
  if (!t) filled.set(overrides, t = resolveTimeouts(overrides));
  return t;
}

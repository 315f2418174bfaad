// Circuit breaker logic, pure. closed → open (failure rate over a rolling window with a minimum
// sample) → half_open after the open time (N probe slots) →
// closed after N probe successes, or open again with a longer, jittered, capped open time.
// A provider actor holds one per model and one provider-wide; the scope names which in events.
import type { EventOf, GatewayEvent } from "../../src/events/catalogue.ts";

export interface BreakerConfig {
  failureRateThreshold: number;
  minimumRequests: number;
  windowMs: number;
  openMs: number;
  /** Cap for the growing re-open time. */
  maxOpenMs: number;
  halfOpenProbes: number;
  /** A probe not reported within this time frees its slot anyway. */
  probeLeaseMs: number;
}

export type BreakerStatus = "closed" | "open" | "half_open";

/** Outcomes counted in fixed buckets so the window costs O(buckets), not O(requests). */
export interface Bucket {
  start: number;
  ok: number;
  failed: number;
}

export interface BreakerState {
  status: BreakerStatus;
  window: readonly Bucket[];
  openedAt: number;
  until: number;
  reopenCount: number;
  /** attempt key → lease expiry, for probes in flight. */
  probes: Readonly<Record<string, number>>;
  probeSuccesses: number;
}

export const initialBreaker: BreakerState = {
  status: "closed",
  window: [],
  openedAt: 0,
  until: 0,
  reopenCount: 0,
  probes: {},
  probeSuccesses: 0,
};

export type BreakerEvent = EventOf<"breaker.opened" | "breaker.half_opened" | "breaker.closed">;

export type Gate =
  | { ok: true; probe: boolean; transition?: BreakerEvent }
  | { ok: false; retryAfterMs: number };

export const attemptKey = (requestId: string, attempt: number) => `${requestId}#${attempt}`;

/** Whose breaker: a provider id (provider-wide), or a provider and one of its models. */
export type BreakerScope = string | { provider: string; model?: string };

/** The scope as event fields: `model` only when there is one (absent, not undefined). */
export function scopeFields(scope: BreakerScope): { provider: string; model?: string } {
  if (typeof scope === "string") return { provider: scope };
  return scope.model === undefined ? { provider: scope.provider } : scope;
}

/** Which failures a breaker counts: a model's own, or those that break the whole provider. */
export type BreakerKind = "model" | "provider";

const bucketMs = (cfg: BreakerConfig) => Math.max(100, Math.floor(cfg.windowMs / 30));

function liveProbes(s: BreakerState, now: number): number[] {
  return Object.values(s.probes).filter((until) => until > now);
}

/** May an attempt go through now? Moves open → half_open once the open time is over. */
export function gate(cfg: BreakerConfig, s: BreakerState, scope: BreakerScope, now: number): Gate {
  switch (s.status) {
    case "closed":
      return { ok: true, probe: false };
    case "open":
      if (now < s.until) return { ok: false, retryAfterMs: s.until - now };
      return {
        ok: true,
        probe: true,
        transition: {
          type: "breaker.half_opened",
          at: now,
          ...scopeFields(scope),
          probes: cfg.halfOpenProbes,
        },
      };
    case "half_open": {
      const live = liveProbes(s, now);
      if (live.length < cfg.halfOpenProbes) return { ok: true, probe: true };
      return { ok: false, retryAfterMs: Math.max(1, Math.min(...live) - now) };
    }
  }
}

/** Timer-driven transition: announce half-open as soon as the open time is over. */
export function tick(cfg: BreakerConfig, s: BreakerState, scope: BreakerScope, now: number) {
  const g = s.status === "open" ? gate(cfg, s, scope, now) : undefined;
  return g?.ok && g.transition ? [g.transition] : [];
}

export function failureStats(cfg: BreakerConfig, s: BreakerState, now: number) {
  let ok = 0, failed = 0;
  for (const b of s.window) {
    if (b.start + bucketMs(cfg) > now - cfg.windowMs) {
      ok += b.ok;
      failed += b.failed;
    }
  }
  const samples = ok + failed;
  return { samples, failureRate: samples === 0 ? 0 : failed / samples };
}

/** Open time for the next opening: grows ×2 per consecutive re-open, ±20 % jitter, capped. */
export function nextOpenMs(cfg: BreakerConfig, reopenCount: number, rand: number): number {
  // An openMs set above the cap raises the cap: the first opening is never cut short.
  const cap = Math.max(cfg.openMs, cfg.maxOpenMs);
  const base = Math.min(cap, cfg.openMs * 2 ** reopenCount);
  const jittered = reopenCount === 0 ? base : base * (0.8 + 0.4 * rand);
  return Math.round(Math.min(cap, jittered));
}

export interface Judgement {
  now: number;
  verdict: "success" | "failure" | "neutral";
  probe: boolean;
  rand: number;
}

/**
 * Transitions caused by one reported outcome. `s` must already include that outcome
 * (the attempt.* event folded), so the window counts it.
 */
export function judge(
  cfg: BreakerConfig,
  s: BreakerState,
  scope: BreakerScope,
  j: Judgement,
): BreakerEvent[] {
  const ids = scopeFields(scope);
  const open = (reason: string, openMs: number, reopenCount: number): BreakerEvent[] => {
    const { samples, failureRate } = failureStats(cfg, s, j.now);
    return [{
      type: "breaker.opened",
      at: j.now,
      ...ids,
      reason,
      openMs,
      until: j.now + openMs,
      failureRate,
      samples,
      reopenCount,
    }];
  };
  if (s.status === "half_open" && j.probe) {
    if (j.verdict === "failure") {
      const reopen = s.reopenCount + 1;
      return open("probe_failed", nextOpenMs(cfg, reopen, j.rand), reopen);
    }
    if (j.verdict === "success" && s.probeSuccesses >= cfg.halfOpenProbes) {
      return [{ type: "breaker.closed", at: j.now, ...ids }];
    }
    return [];
  }
  if (s.status === "closed" && j.verdict === "failure") {
    const { samples, failureRate } = failureStats(cfg, s, j.now);
    if (samples >= cfg.minimumRequests && failureRate >= cfg.failureRateThreshold) {
      return open("failure_rate", nextOpenMs(cfg, 0, j.rand), 0);
    }
  }
  return [];
}

function record(cfg: BreakerConfig, s: BreakerState, at: number, ok: boolean): BreakerState {
  const size = bucketMs(cfg);
  const start = at - (at % size);
  // Outcomes from other replicas can arrive a little late: each counts in its own bucket, and
  // the window is measured from the newest one seen, so a late outcome never drops newer ones.
  const newest = s.window[s.window.length - 1];
  if (newest && newest.start === start && s.window[0].start + size > at - cfg.windowMs) {
    // The common case, folded without filtering and splicing: the outcome lands in the newest
    // bucket and no bucket has left the window (they are ordered by start).
    const window = s.window.slice();
    window[window.length - 1] = {
      start,
      ok: newest.ok + (ok ? 1 : 0),
      failed: newest.failed + (ok ? 0 : 1),
    };
    return { ...s, window };
  }
  const horizon = newest && newest.start > start ? newest.start : at;
  const kept = s.window.filter((b) => b.start + size > horizon - cfg.windowMs);
  if (start + size <= horizon - cfg.windowMs) return { ...s, window: kept };
  const i = kept.findIndex((b) => b.start >= start);
  const into = i >= 0 && kept[i].start === start ? kept[i] : { start, ok: 0, failed: 0 };
  const bucket = { start, ok: into.ok + (ok ? 1 : 0), failed: into.failed + (ok ? 0 : 1) };
  const window = i < 0
    ? [...kept, bucket]
    : [...kept.slice(0, i), bucket, ...kept.slice(into === kept[i] ? i + 1 : i)];
  return { ...s, window };
}

function release(s: BreakerState, key: string): BreakerState {
  if (!(key in s.probes)) return s;
  const { [key]: _, ...probes } = s.probes;
  return { ...s, probes };
}

/**
 * Folds one event. `kind` says which counted failures this breaker records: a model breaker
 * those without a provider scope, the provider-wide one only those scoped "provider".
 * Successes count for both. A probe slot is taken only by a breaker that is half-open.
 */
export function evolveBreaker(
  cfg: BreakerConfig,
  s: BreakerState,
  e: GatewayEvent,
  kind: BreakerKind = "model",
): BreakerState {
  switch (e.type) {
    case "attempt.started":
      return e.probe && s.status === "half_open"
        ? {
          ...s,
          probes: { ...s.probes, [attemptKey(e.requestId, e.attempt)]: e.at + cfg.probeLeaseMs },
        }
        : s;
    case "attempt.succeeded":
    case "attempt.failed":
    case "attempt.aborted": {
      const held = e.probe && attemptKey(e.requestId, e.attempt) in s.probes;
      let next = held ? release(s, attemptKey(e.requestId, e.attempt)) : s;
      if (held && e.type === "attempt.succeeded" && next.status === "half_open") {
        next = { ...next, probeSuccesses: next.probeSuccesses + 1 };
      }
      const counted = e.type === "attempt.succeeded" ||
        (e.type === "attempt.failed" && e.counted &&
          // Auth is the key's, whatever an older event without a scope said.
          (e.scope === "provider" || e.errorType === "auth") === (kind === "provider"));
      if (counted && next.status === "closed") {
        next = record(cfg, next, e.at, e.type === "attempt.succeeded");
      }
      return next;
    }
    case "breaker.opened":
      // Two replicas may open at the same moment: the longer opening wins, in any order.
      if (s.status === "open" && e.until <= s.until) return s;
      return {
        status: "open",
        window: [],
        openedAt: e.at,
        until: e.until,
        reopenCount: e.reopenCount,
        probes: {},
        probeSuccesses: 0,
      };
    case "breaker.half_opened":
      // Only an open breaker whose open time is over half-opens: a late transition from another
      // replica about an earlier opening must not reset probes or cut a newer opening short.
      if (s.status !== "open" || e.at < s.until) return s;
      return { ...s, status: "half_open", probes: {}, probeSuccesses: 0 };
    case "breaker.closed":
      // A close decided before the latest opening (another replica's, arriving late) is stale.
      if (e.at < s.openedAt) return s;
      return { ...initialBreaker };
    default:
      return s;
  }
}

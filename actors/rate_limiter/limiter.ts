// Rate limiter logic, pure: two token buckets (requests and tokens per minute) that refill
// continuously, plus a hard block until an upstream Retry-After has passed. A provider actor
// keeps one per key (configured limits, key-wide blocks such as quota) and one per (key, model)
// (per-model limits, and the 429 blocks the upstream sent for that model).
import type { EventOf, GatewayEvent } from "../../src/events/catalogue.ts";

export interface LimiterConfig {
  /** Requests per minute; 0 = unlimited. */
  rpm: number;
  /** Tokens per minute; 0 = unlimited. */
  tpm: number;
}

export interface LimiterState {
  requests: number;
  tokens: number;
  /** When the buckets were last brought up to date. */
  at: number;
  /** Blocked until this time (0 = not blocked). Cleared by ratelimit.refilled. */
  blockedUntil: number;
}

export type LimiterEvent = EventOf<"ratelimit.blocked" | "ratelimit.refilled">;

export type LimiterGate =
  | { ok: true; transitions: LimiterEvent[] }
  | { ok: false; retryAfterMs: number; transitions: LimiterEvent[] };

export function initialLimiter(cfg: LimiterConfig): LimiterState {
  return { requests: cfg.rpm, tokens: cfg.tpm, at: 0, blockedUntil: 0 };
}

const PER_MS = 1 / 60_000;

/** Buckets as they stand at `now` (never above capacity). */
export function refill(cfg: LimiterConfig, s: LimiterState, now: number): LimiterState {
  const dt = Math.max(0, now - s.at);
  if (dt === 0) return s;
  return {
    ...s,
    requests: Math.min(cfg.rpm, s.requests + dt * cfg.rpm * PER_MS),
    tokens: Math.min(cfg.tpm, s.tokens + dt * cfg.tpm * PER_MS),
    at: now,
  };
}

/** Whose limiter: a key, or a key for one model (`model` absent, not undefined, for the key). */
export interface LimiterIds {
  provider: string;
  key: string;
  model?: string;
}

/** Can this key take one request of about `cost` tokens now? */
export function limiterGate(
  cfg: LimiterConfig,
  s: LimiterState,
  ids: LimiterIds,
  now: number,
  cost: number,
): LimiterGate {
  if (s.blockedUntil > now) {
    return { ok: false, retryAfterMs: s.blockedUntil - now, transitions: [] };
  }
  const transitions: LimiterEvent[] = s.blockedUntil !== 0
    ? [{ type: "ratelimit.refilled", at: now, ...ids }]
    : [];
  const r = refill(cfg, s, now);
  let waitMs = 0;
  let reason: "rpm" | "tpm" = "rpm";
  if (cfg.rpm > 0 && r.requests < 1) waitMs = Math.ceil((1 - r.requests) / (cfg.rpm * PER_MS));
  // A request bigger than the whole bucket would wait forever: it only needs a full bucket.
  const need = Math.min(cost, cfg.tpm);
  if (cfg.tpm > 0 && r.tokens < need) {
    const tpmWait = Math.ceil((need - r.tokens) / (cfg.tpm * PER_MS));
    if (tpmWait > waitMs) {
      waitMs = tpmWait;
      reason = "tpm";
    }
  }
  if (waitMs === 0) return { ok: true, transitions };
  transitions.push({ type: "ratelimit.blocked", at: now, ...ids, reason, until: now + waitMs });
  return { ok: false, retryAfterMs: waitMs, transitions };
}

/** Timer-driven transition: announce the refill once a block has passed. */
export function limiterTick(s: LimiterState, ids: LimiterIds, now: number) {
  return s.blockedUntil !== 0 && s.blockedUntil <= now
    ? [{ type: "ratelimit.refilled" as const, at: now, ...ids }]
    : [];
}

export function evolveLimiter(
  cfg: LimiterConfig,
  s: LimiterState,
  e: GatewayEvent,
): LimiterState {
  switch (e.type) {
    case "attempt.started": {
      const r = refill(cfg, s, e.at);
      return {
        ...r,
        requests: cfg.rpm > 0 ? r.requests - 1 : r.requests,
        tokens: cfg.tpm > 0 ? r.tokens - e.reservedTokens : r.tokens,
      };
    }
    case "attempt.succeeded": {
      // Correct the estimate with what the upstream reported.
      if (!e.usage || cfg.tpm === 0) return s;
      const used = e.usage.promptTokens + e.usage.completionTokens;
      return { ...s, tokens: Math.min(cfg.tpm, s.tokens + e.reservedTokens - used) };
    }
    case "ratelimit.blocked":
      return { ...s, blockedUntil: Math.max(s.blockedUntil, e.until) };
    case "ratelimit.refilled":
      return { ...s, blockedUntil: 0 };
    default:
      return s;
  }
}

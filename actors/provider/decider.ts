// The provider decider: one per configured provider. Composes the breaker, one limiter per key
// and a per-model cooldown. It admits attempts (choosing a key by weight among those the limiter
// lets through) and turns reported outcomes into facts about the provider's health.
import type { EventOf, FailureKind, GatewayEvent, UsageFacts } from "../../src/events/catalogue.ts";
import type { Decider } from "../runtime/mod.ts";
import {
  type BreakerConfig,
  type BreakerState,
  evolveBreaker,
  gate,
  initialBreaker,
  judge,
  tick as breakerTick,
} from "../breaker/mod.ts";
import {
  evolveLimiter,
  initialLimiter,
  type LimiterConfig,
  limiterGate,
  type LimiterState,
  limiterTick,
} from "../rate_limiter/mod.ts";

export interface ProviderActorConfig {
  id: string;
  keys: readonly { id: string; weight: number }[];
  breaker: BreakerConfig;
  rateLimit: LimiterConfig;
  /** How long a model the upstream called gone/not allowed is skipped. */
  modelCooldownMs: number;
  /** Block time for a 429 that came without any retry-after hint. */
  defaultRetryAfterMs: number;
}

export interface ProviderState {
  breaker: BreakerState;
  limiters: Readonly<Record<string, LimiterState>>;
  /** model → unavailable until. */
  models: Readonly<Record<string, number>>;
}

/** What the classifier concluded about a failed attempt (structural, see src/providers). */
export interface FailureFacts {
  kind: FailureKind;
  status?: number;
  message: string;
  retryAfterMs?: number;
}

export type Outcome =
  | { type: "success"; status: number; latencyMs: number; usage?: UsageFacts; ttftMs?: number }
  | { type: "failure"; failure: FailureFacts; latencyMs: number }
  | { type: "aborted"; latencyMs: number };

export interface AttemptRef {
  requestId: string;
  attempt: number;
  model: string;
}

export type ProviderCommand =
  | (AttemptRef & {
    kind: "admit";
    now: number;
    estTokens: number;
    rand: number;
    /**
     * Replicas on NATS share the half-open probe slots through a lease: false when another
     * replica holds it (this one keeps skipping). Absent for a lone gateway, which always may.
     */
    probeLease?: boolean;
  })
  | (AttemptRef & {
    kind: "report";
    now: number;
    key: string;
    probe: boolean;
    reservedTokens: number;
    outcome: Outcome;
    rand: number;
  })
  | {
    kind: "tick";
    now: number;
    /** As for admit: false = leave the half-open transition to the replica holding the lease. */
    probeLease?: boolean;
  };

export type Admission = EventOf<"attempt.started"> | EventOf<"attempt.skipped">;

/** Retry-After for a probe left to another replica: about one probe's round trip. */
export const PROBE_ELSEWHERE_RETRY_MS = 1_000;

/** Failures that say something about the provider's health. */
const COUNTED: ReadonlySet<FailureKind> = new Set(["transient", "timeout", "unknown", "auth"]);

export function createProviderDecider(
  cfg: ProviderActorConfig,
): Decider<ProviderState, ProviderCommand, GatewayEvent> {
  const provider = cfg.id;
  const limiters: Record<string, LimiterState> = {};
  for (const k of cfg.keys) limiters[k.id] = initialLimiter(cfg.rateLimit);
  const initialState: ProviderState = { breaker: initialBreaker, limiters, models: {} };

  const evolve = (s: ProviderState, e: GatewayEvent): ProviderState => {
    if (!("provider" in e) || e.provider !== provider) return s;
    const breaker = evolveBreaker(cfg.breaker, s.breaker, e);
    let next: ProviderState = breaker === s.breaker ? s : { ...s, breaker };
    // A refill announced before the key's latest block (another replica's, arriving late) is stale.
    const stale = e.type === "ratelimit.refilled" && e.key in next.limiters &&
      e.at < next.limiters[e.key].blockedUntil;
    if ("key" in e && e.key in next.limiters && !stale) {
      const l = evolveLimiter(cfg.rateLimit, next.limiters[e.key], e);
      if (l !== next.limiters[e.key]) {
        next = { ...next, limiters: { ...next.limiters, [e.key]: l } };
      }
    }
    if (e.type === "model.unavailable") {
      const until = Math.max(next.models[e.model] ?? 0, e.until);
      next = { ...next, models: { ...next.models, [e.model]: until } };
    }
    return next;
  };

  const admit = (s: ProviderState, c: Extract<ProviderCommand, { kind: "admit" }>) => {
    const base = {
      at: c.now,
      requestId: c.requestId,
      attempt: c.attempt,
      provider,
      model: c.model,
    };
    const skip = (reason: EventOf<"attempt.skipped">["reason"], retryAfterMs: number) => ({
      type: "attempt.skipped" as const,
      ...base,
      reason,
      retryAfterMs,
    });
    const modelUntil = s.models[c.model] ?? 0;
    if (modelUntil > c.now) return [skip("model_unavailable", modelUntil - c.now)];
    const g = gate(cfg.breaker, s.breaker, provider, c.now);
    if (!g.ok) return [skip("circuit_open", g.retryAfterMs)];
    if (g.probe && c.probeLease === false) return [skip("circuit_open", PROBE_ELSEWHERE_RETRY_MS)];
    const events: GatewayEvent[] = g.transition ? [g.transition] : [];
    const open: { id: string; weight: number }[] = [];
    let soonest = Infinity;
    for (const k of cfg.keys) {
      const lg = limiterGate(
        cfg.rateLimit,
        s.limiters[k.id],
        { provider, key: k.id },
        c.now,
        c.estTokens,
      );
      events.push(...lg.transitions);
      if (lg.ok) open.push(k);
      else soonest = Math.min(soonest, lg.retryAfterMs);
    }
    if (open.length === 0) return [...events, skip("rate_limited", soonest)];
    events.push({
      type: "attempt.started",
      ...base,
      key: pickWeighted(open, c.rand).id,
      probe: g.probe,
      reservedTokens: cfg.rateLimit.tpm > 0 ? c.estTokens : 0,
    });
    return events;
  };

  const report = (s: ProviderState, c: Extract<ProviderCommand, { kind: "report" }>) => {
    const base = {
      at: c.now,
      requestId: c.requestId,
      attempt: c.attempt,
      provider,
      model: c.model,
      key: c.key,
      probe: c.probe,
      latencyMs: c.outcome.latencyMs,
    };
    const o = c.outcome;
    const events: GatewayEvent[] = [];
    let verdict: "success" | "failure" | "neutral" = "neutral";
    let trip: { reason: string; openMs?: number } | undefined;
    if (o.type === "success") {
      verdict = "success";
      events.push({
        type: "attempt.succeeded",
        ...base,
        status: o.status,
        reservedTokens: c.reservedTokens,
        usage: o.usage,
        ...(o.ttftMs !== undefined && { ttftMs: o.ttftMs }),
      });
    } else if (o.type === "aborted") {
      events.push({ type: "attempt.aborted", ...base });
    } else {
      const f = o.failure;
      const counted = COUNTED.has(f.kind);
      if (counted) verdict = "failure";
      events.push({
        type: "attempt.failed",
        ...base,
        status: f.status,
        errorType: f.kind,
        message: f.message,
        retryAfterMs: f.retryAfterMs,
        counted,
      });
      if (f.kind === "rate_limit") {
        const until = c.now + (f.retryAfterMs ?? cfg.defaultRetryAfterMs);
        events.push({
          type: "ratelimit.blocked",
          at: c.now,
          provider,
          key: c.key,
          reason: "retry_after",
          until,
        });
      } else if (f.kind === "quota") {
        trip = { reason: "quota", openMs: f.retryAfterMs };
      } else if (f.kind === "model_unavailable") {
        events.push({
          type: "model.unavailable",
          at: c.now,
          provider,
          model: c.model,
          until: c.now + cfg.modelCooldownMs,
          message: f.message,
        });
      }
    }
    // Judge on the state that already holds this outcome.
    let folded = s;
    for (const e of events) folded = evolve(folded, e);
    events.push(
      ...judge(cfg.breaker, folded.breaker, provider, {
        now: c.now,
        verdict,
        probe: c.probe,
        trip,
        rand: c.rand,
      }),
    );
    return events;
  };

  const tick = (s: ProviderState, now: number, probeLease?: boolean): GatewayEvent[] => {
    const events: GatewayEvent[] = probeLease === false
      ? []
      : breakerTick(cfg.breaker, s.breaker, provider, now);
    for (const k of cfg.keys) {
      events.push(...limiterTick(s.limiters[k.id], { provider, key: k.id }, now));
    }
    return events;
  };

  return {
    initialState,
    evolve,
    decide(s, c) {
      switch (c.kind) {
        case "admit":
          return admit(s, c);
        case "report":
          return report(s, c);
        case "tick":
          return tick(s, c.now, c.probeLease);
      }
    },
  };
}

/** Weighted choice with an injected draw in [0, 1). */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], rand: number): T {
  const total = items.reduce((sum, i) => sum + Math.max(0, i.weight), 0);
  if (total <= 0) return items[Math.floor(rand * items.length)];
  let r = rand * total;
  for (const i of items) {
    r -= Math.max(0, i.weight);
    if (r < 0) return i;
  }
  return items[items.length - 1];
}

/**
 * The next time a timer tick could change something (open time over, block passed). With
 * `after`, only moments later than it: what is already due waits for the next admit.
 */
export function nextWakeAt(s: ProviderState, after = -Infinity): number | undefined {
  const times: number[] = [];
  if (s.breaker.status === "open") times.push(s.breaker.until);
  for (const l of Object.values(s.limiters)) if (l.blockedUntil !== 0) times.push(l.blockedUntil);
  const due = times.filter((t) => t > after);
  return due.length ? Math.min(...due) : undefined;
}

/**
 * The opening (its `until`, the same on every replica that folded it) whose half-open probe an
 * admit at `now` would be: open with the open time over, or half-open. Undefined otherwise.
 */
export function probeEpisode(s: ProviderState, now: number): number | undefined {
  const b = s.breaker;
  return (b.status === "open" && now >= b.until) || b.status === "half_open" ? b.until : undefined;
}

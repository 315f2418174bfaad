// Read-only view of a provider's state: could an attempt for `model` be admitted right now, and if
// not, why and for how long. The same gates the decider's `admit` runs, evaluated without
// deciding anything: no events, nothing published, no state changed. The balancer uses it to
// leave unhealthy targets out of a latency choice or a sticky pin.
import type { SkipReason } from "../../src/events/catalogue.ts";
import { gate } from "../breaker/mod.ts";
import { limiterGate } from "../rate_limiter/mod.ts";
import type { ProviderActorConfig, ProviderState } from "./decider.ts";

export type Availability =
  | { ok: true }
  | { ok: false; reason: Exclude<SkipReason, "unsupported">; retryAfterMs: number };

export function availability(
  cfg: ProviderActorConfig,
  s: ProviderState,
  model: string,
  now: number,
  estTokens = 0,
): Availability {
  const h = s.models[model];
  if (h && h.unavailableUntil > now) {
    return { ok: false, reason: "model_unavailable", retryAfterMs: h.unavailableUntil - now };
  }
  // Both breakers may refuse: the model is back only when both let it through.
  let closedFor = 0;
  const breakers = [[s.breaker, cfg.id], [h?.breaker, { provider: cfg.id, model }]] as const;
  for (const [b, scope] of breakers) {
    const g = b && gate(cfg.breaker, b, scope, now);
    if (g && !g.ok) closedFor = Math.max(closedFor, g.retryAfterMs);
  }
  if (closedFor > 0) return { ok: false, reason: "circuit_open", retryAfterMs: closedFor };
  const lc = cfg.rateLimit.models?.[model] ?? { rpm: 0, tpm: 0 };
  let soonest = Infinity;
  for (const k of cfg.keys) {
    const ids = { provider: cfg.id, key: k.id };
    const kg = limiterGate(cfg.rateLimit, s.limiters[k.id], ids, now, estTokens);
    let wait = kg.ok ? 0 : kg.retryAfterMs;
    const ml = s.modelLimiters[k.id]?.[model];
    if (ml) {
      const mg = limiterGate(lc, ml, { ...ids, model }, now, estTokens);
      if (!mg.ok) wait = Math.max(wait, mg.retryAfterMs);
    }
    if (wait === 0) return { ok: true };
    soonest = Math.min(soonest, wait);
  }
  return { ok: false, reason: "rate_limited", retryAfterMs: soonest };
}

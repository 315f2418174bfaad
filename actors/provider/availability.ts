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
  const modelUntil = s.models[model] ?? 0;
  if (modelUntil > now) {
    return { ok: false, reason: "model_unavailable", retryAfterMs: modelUntil - now };
  }
  const g = gate(cfg.breaker, s.breaker, cfg.id, now);
  if (!g.ok) return { ok: false, reason: "circuit_open", retryAfterMs: g.retryAfterMs };
  let soonest = Infinity;
  for (const k of cfg.keys) {
    const lg = limiterGate(
      cfg.rateLimit,
      s.limiters[k.id],
      { provider: cfg.id, key: k.id },
      now,
      estTokens,
    );
    if (lg.ok) return { ok: true };
    soonest = Math.min(soonest, lg.retryAfterMs);
  }
  return { ok: false, reason: "rate_limited", retryAfterMs: soonest };
}

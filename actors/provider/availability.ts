// Read-only view of a provider's state: could an attempt for `model` be admitted right now, and if
// not, why and for how long. The very gates the decider's `admit` runs (admissionGates), read
// without deciding anything: no events, nothing published, no state changed. The balancer uses it to
// leave unhealthy targets out of a latency choice or a sticky pin.
import type { SkipReason } from "../../src/events/catalogue.ts";
import { admissionGates, type ProviderActorConfig, type ProviderState } from "./decider.ts";

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
  const g = admissionGates(cfg, s, model, now, estTokens);
  if (g.refused) return { ok: false, ...g.refused };
  if (g.open.length > 0) return { ok: true };
  return { ok: false, reason: "rate_limited", retryAfterMs: g.soonest };
}

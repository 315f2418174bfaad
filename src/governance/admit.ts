// Admission of a keyed request: the gateway's one planner plans it with the key's latest policy
// (a 403 from the plan is a `key.denied`), then the key's rpm/tpm and budget are checked and the
// request counted in the shared store with one compare-and-set on the key's usage entry. If the
// store is out of reach the request is served (limits not enforced) rather than refused.
import type { Clock } from "../ports.ts";
import type { Plan, Planned } from "../routing/plan.ts";
import type { KeyCache } from "./key_cache.ts";
import type { KeyPolicy } from "./keys.ts";
import { toUsd } from "./pricing.ts";
import type { Deny, Refusal } from "./refusal.ts";
import { casUpdate, type KeyStore } from "./store.ts";
import type { StoreHealth } from "./store_health.ts";
import { parseUsage, usageDecider, type UsageEvent, usageKey } from "./usage.ts";

export type Admit = (
  key: KeyPolicy,
  requestId: string,
  model: string,
  plan: (key: KeyPolicy) => Plan,
) => Promise<Planned | Refusal>;

const periodName = (period: string) => period === "1d" ? "day" : period === "1w" ? "week" : "month";

export function createAdmit(deps: {
  cache: Pick<KeyCache, "latest">;
  store: KeyStore;
  clock: Clock;
  deny: Deny;
  health: StoreHealth;
}): Admit {
  const { cache, store, clock, deny, health } = deps;
  return async (given, requestId, model, plan) => {
    const key = cache.latest(given);
    const chain = plan(key);
    if (!chain.ok) {
      // The plan's own error, as it is; a 403 is also a key.denied.
      return chain.status === 403
        ? deny(requestId, "model_not_allowed", chain, { virtualKey: key.id, model })
        : chain;
    }
    const { limits, budget } = key;
    if (limits?.rpm === undefined && limits?.tpm === undefined && !budget) return chain;
    let verdict: UsageEvent;
    try {
      verdict = await casUpdate(store, usageKey(key.id), (current) => {
        const state = parseUsage(current);
        const [event] = usageDecider.decide(state, {
          kind: "admit",
          now: clock.now(),
          limits,
          budget,
        });
        const write = event.type === "admitted" ? usageDecider.evolve(state, event) : undefined;
        return { write, result: event };
      });
      health.recovered();
    } catch (err) {
      // The shared counters are out of reach: serve rather than fail every keyed request.
      health.failed("admission", err);
      return chain;
    }
    if (verdict.type === "over_budget") {
      return deny(requestId, "over_budget", {
        status: 402,
        type: "quota",
        code: "budget_exceeded",
        param: null,
        message: `The virtual key "${key.name}" has spent its budget of $${budget!.usd} for this ${
          periodName(budget!.period)
        } ($${toUsd(verdict.spentNanoUsd).toFixed(6)}); it resets at ${
          new Date(verdict.resetsAt).toISOString()
        }.`,
        retryAfterMs: verdict.retryAfterMs,
      }, { virtualKey: key.id, model });
    }
    if (verdict.type === "rate_limited") {
      return deny(requestId, "rate_limited", {
        status: 429,
        type: "rate_limit",
        code: "rate_limit_exceeded",
        param: null,
        message:
          `The virtual key "${key.name}" is over its ${verdict.limit} limit (${verdict.used} of ${verdict.max} this minute).`,
        retryAfterMs: verdict.retryAfterMs,
      }, { virtualKey: key.id, model });
    }
    return chain;
  };
}

// Admission of a keyed request: the gateway's one planner plans it with the key's latest policy
// (a 403 from the plan is a `key.denied`), then the rpm/tpm and budget of every level the key
// counts against (the key, its team, the team's customer: levels.ts) are checked and the request
// counted in the shared store, one compare-and-set per level's usage entry. Every level is
// checked before any is counted, so a refusal at one level does not use up another's rpm (two
// replicas racing past the check may still count a request a refused level then turns away). If
// the store is out of reach the request is served (limits not enforced) rather than refused.
import type { Clock } from "../ports.ts";
import type { Plan, Planned } from "../routing/plan.ts";
import type { KeyCache } from "./key_cache.ts";
import type { KeyPolicy } from "./keys.ts";
import { type Level, levelsOf, levelUsageKey } from "./levels.ts";
import { toUsd } from "./pricing.ts";
import type { Deny, Refusal } from "./refusal.ts";
import { casUpdate, type KeyStore } from "./store.ts";
import type { StoreHealth } from "./store_health.ts";
import { parseUsage, usageDecider, type UsageEvent } from "./usage.ts";

export type Admit = (
  key: KeyPolicy,
  requestId: string,
  model: string,
  plan: (key: KeyPolicy) => Plan,
) => Promise<Planned | Refusal>;

const periodName = (period: string) => period === "1d" ? "day" : period === "1w" ? "week" : "month";
const periodly = (period: string) =>
  period === "1d" ? "daily" : period === "1w" ? "weekly" : "monthly";

type Refused = Extract<UsageEvent, { type: "over_budget" | "rate_limited" }>;

/** The refusal for `level`, its message naming the level and its name. */
export function levelRefusal(level: Level, verdict: Refused): Omit<Refusal, "ok"> {
  if (verdict.type === "over_budget") {
    const budget = level.budget!;
    const spent = `$${toUsd(verdict.spentNanoUsd).toFixed(6)}`;
    const resets = new Date(verdict.resetsAt).toISOString();
    return {
      status: 402,
      type: "quota",
      code: "budget_exceeded",
      param: null,
      message: level.kind === "key"
        ? `The virtual key "${level.name}" has spent its budget of $${budget.usd} for this ${
          periodName(budget.period)
        } (${spent}); it resets at ${resets}.`
        : `The ${level.kind} "${level.name}" is over its ${
          periodly(budget.period)
        } budget of $${budget.usd} (${spent} spent); it resets at ${resets}.`,
      retryAfterMs: verdict.retryAfterMs,
    };
  }
  const who = level.kind === "key"
    ? `virtual key "${level.name}"`
    : `${level.kind} "${level.name}"`;
  return {
    status: 429,
    type: "rate_limit",
    code: "rate_limit_exceeded",
    param: null,
    message:
      `The ${who} is over its ${verdict.limit} limit (${verdict.used} of ${verdict.max} this minute).`,
    retryAfterMs: verdict.retryAfterMs,
  };
}

const enforced = (l: Pick<Level, "limits" | "budget">) =>
  l.limits?.rpm !== undefined || l.limits?.tpm !== undefined || l.budget !== undefined;

export function createAdmit(deps: {
  cache: Pick<KeyCache, "latest">;
  store: KeyStore;
  clock: Clock;
  deny: Deny;
  health: StoreHealth;
}): Admit {
  const { cache, store, clock, deny, health } = deps;

  const decide = (level: Level, current: unknown, now: number) => {
    const state = parseUsage(current);
    const [event] = usageDecider.decide(state, {
      kind: "admit",
      now,
      limits: level.limits,
      budget: level.budget,
    });
    return { state, event };
  };

  /** The first level that refuses, or undefined when every one admitted (and counted). */
  async function admitAll(levels: Level[]): Promise<[Level, Refused] | undefined> {
    // Check every level first (reads only; one level needs no separate check) …
    for (const level of levels.length > 1 ? levels : []) {
      const { event } = decide(level, (await store.get(levelUsageKey(level)))?.value, clock.now());
      if (event.type === "over_budget" || event.type === "rate_limited") return [level, event];
    }
    // … then count the request at each, deciding again on the value each write replaces.
    for (const level of levels) {
      const event = await casUpdate(store, levelUsageKey(level), (current) => {
        const { state, event } = decide(level, current, clock.now());
        const write = event.type === "admitted" ? usageDecider.evolve(state, event) : undefined;
        return { write, result: event };
      });
      if (event.type === "over_budget" || event.type === "rate_limited") return [level, event];
    }
    return undefined;
  }

  return async (given, requestId, model, plan) => {
    const key = cache.latest(given);
    const chain = plan(key);
    if (!chain.ok) {
      // The plan's own error, as it is; a 403 is also a key.denied.
      return chain.status === 403
        ? deny(requestId, "model_not_allowed", chain, { virtualKey: key.id, model })
        : chain;
    }
    if (!enforced(key) && !key.team) return chain;
    let refused: [Level, Refused] | undefined;
    let levels: Level[];
    try {
      levels = await levelsOf(store, key);
      refused = await admitAll(levels.filter(enforced));
      health.recovered();
    } catch (err) {
      // The shared counters are out of reach: serve rather than fail every keyed request.
      health.failed("admission", err);
      return chain;
    }
    if (!refused) return chain;
    const [level, verdict] = refused;
    const ids = Object.fromEntries(
      levels.filter((l) => l.kind !== "key").map((l) => [l.kind, l.id]),
    );
    return deny(
      requestId,
      verdict.type === "over_budget" ? "over_budget" : "rate_limited",
      levelRefusal(level, verdict),
      { virtualKey: key.id, model, level: level.kind, ...ids },
    );
  };
}

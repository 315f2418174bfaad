// Charging a served attempt to its key: the cost from the pricing table (a model without a price
// counts as $0, logged once per model), added to the key's usage and period spend in the shared
// store — and to the key's team and that team's customer, each level's usage entry updated the
// same way (levels.ts) — and published as a `key.spend` event naming the team and customer. Charging never fails a request; `drain` lets close
// wait (bounded) for charges still being written.
// One replica writes one key's charges one after another: concurrent compare-and-sets on one
// entry only fight each other (and a lost fight past the retries loses the charge), and on a
// clustered bucket nats-server 2.9 was seen to let two concurrent ones through, one overwriting
// the other. A store unreachable for a moment (its server failing over) is waited out, bounded.
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Config } from "../config.ts";
import type { GatewayEvent, UsageFacts } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import { within } from "../lib/within.ts";
import type { Clock } from "../ports.ts";
import type { KeyCache } from "./key_cache.ts";
import type { KeyPolicy } from "./keys.ts";
import { type Level, levelsOf, levelUsageKey } from "./levels.ts";
import { costNanoUsd, priceOf, toUsd } from "./pricing.ts";
import { casUpdate, type KeyStore, StoreUnavailable } from "./store.ts";
import type { StoreHealth } from "./store_health.ts";
import { parseUsage, usageDecider } from "./usage.ts";

export interface Spend {
  /** Charges a served attempt's usage to the key (usage and spend in the shared store). */
  charge(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts): Promise<void>;
  /** Waits for charges in flight, at most `ms`. */
  drain(ms: number): Promise<void>;
}

/** How long a charge waits out an unreachable store before it is given up (logged). */
const UNAVAILABLE_RETRY_MS = 10_000;

export function createSpend(deps: {
  pricing: Config["pricing"];
  cache: Pick<KeyCache, "latest">;
  store: KeyStore;
  clock: Clock;
  publish(event: GatewayEvent): void;
  logger: Logger;
  health: StoreHealth;
}): Spend {
  const { cache, store, clock, logger, health } = deps;
  const unpriced = new Set<string>();
  const charges = new Set<Promise<void>>();
  // The last charge queued per key: the next one starts when it is done.
  const tails = new Map<string, Promise<void>>();

  // The last update queued per usage entry: keys of one team (and teams of one customer) share
  // the upper entries, so their updates on this replica also go one after another.
  const entryTails = new Map<string, Promise<unknown>>();
  function serially<R>(entry: string, op: () => Promise<R>): Promise<R> {
    const p = (entryTails.get(entry) ?? Promise.resolve()).catch(() => {}).then(op);
    entryTails.set(entry, p);
    return p.finally(() => {
      if (entryTails.get(entry) === p) entryTails.delete(entry);
    });
  }

  async function retrying<R>(op: () => Promise<R>): Promise<R> {
    let waited = 0;
    for (let wait = 100;; wait = Math.min(wait * 2, 1_000)) {
      try {
        return await op();
      } catch (err) {
        if (!(err instanceof StoreUnavailable) || waited + wait > UNAVAILABLE_RETRY_MS) throw err;
        await new Promise((r) => setTimeout(r, wait));
        waited += wait;
      }
    }
  }

  async function record(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts) {
    const promptTokens = usage?.promptTokens ?? 0;
    const completionTokens = usage?.completionTokens ?? 0;
    const price = priceOf(deps.pricing, served.provider, served.model);
    const ref = `${served.provider}/${served.model}`;
    if (!price && !unpriced.has(ref)) {
      unpriced.add(ref);
      logger.warn("no pricing for a model served to a virtual key; its spend counts as $0", {
        model: ref,
      });
    }
    const cost = price ? costNanoUsd(price, { promptTokens, completionTokens }) : 0;
    const now = clock.now();
    const tokens = promptTokens + completionTokens;
    /** Adds the charge to one level's usage; resolves to that level's spend this period. */
    const add = (level: Level) =>
      serially(
        levelUsageKey(level),
        () =>
          retrying(() =>
            casUpdate(store, levelUsageKey(level), (current) => {
              const state = parseUsage(current);
              const events = usageDecider.decide(state, {
                kind: "record",
                now,
                tokens,
                costNanoUsd: cost,
                period: level.budget?.period ?? "1M",
                chargeId: requestId,
              });
              // No event: a retry whose earlier write landed although its answer was lost.
              if (events.length === 0) return { result: state.spentNanoUsd };
              const next = events.reduce(usageDecider.evolve, state);
              return { write: next, result: next.spentNanoUsd };
            })
          ),
      );
    let spent: number;
    let levels: Level[];
    try {
      levels = await retrying(() => levelsOf(store, cache.latest(key)));
      // The key first (its spend is in the event), then its team and customer.
      spent = await add(levels[0]);
      for (const level of levels.slice(1)) await add(level);
      health.recovered();
    } catch (err) {
      health.failed("spend recording", err);
      return;
    }
    const ids = Object.fromEntries(
      levels.filter((l) => l.kind !== "key").map((l) => [l.kind, l.id]),
    );
    const budget = cache.latest(key).budget;
    deps.publish({
      type: "key.spend",
      at: now,
      requestId,
      virtualKey: key.id,
      provider: served.provider,
      model: served.model,
      promptTokens,
      completionTokens,
      costUsd: toUsd(cost),
      priced: price !== undefined,
      periodSpentUsd: toUsd(spent),
      ...(budget ? { budgetUsd: budget.usd } : {}),
      ...ids,
    });
  }

  return {
    charge(key, requestId, served, usage) {
      const before = tails.get(key.id) ?? Promise.resolve();
      const p = before.then(() => record(key, requestId, served, usage)).catch((err) =>
        logger.error("virtual keys: charging failed", { virtualKey: key.id, error: String(err) })
      );
      tails.set(key.id, p);
      charges.add(p);
      return p.finally(() => {
        charges.delete(p);
        if (tails.get(key.id) === p) tails.delete(key.id);
      });
    },
    async drain(ms) {
      await within(Promise.all([...charges]), ms);
    },
  };
}

// Charging a served attempt to its key: the cost from the pricing table (a model without a price
// counts as $0, logged once per model), added to the key's usage and period spend in the shared
// store, and published as a `key.spend` event. Charging never fails a request; `drain` lets close
// wait (bounded) for charges still being written.
import type { Candidate } from "../../actors/supervisor/mod.ts";
import type { Config } from "../config.ts";
import type { GatewayEvent, UsageFacts } from "../events/catalogue.ts";
import type { Logger } from "../lib/logger.ts";
import type { Clock } from "../ports.ts";
import type { KeyCache } from "./key_cache.ts";
import type { KeyPolicy } from "./keys.ts";
import { costNanoUsd, priceOf, toUsd } from "./pricing.ts";
import { casUpdate, type KeyStore } from "./store.ts";
import type { StoreHealth } from "./store_health.ts";
import { parseUsage, usageDecider, usageKey } from "./usage.ts";

export interface Spend {
  /** Charges a served attempt's usage to the key (usage and spend in the shared store). */
  charge(key: KeyPolicy, requestId: string, served: Candidate, usage?: UsageFacts): Promise<void>;
  /** Waits for charges in flight, at most `ms`. */
  drain(ms: number): Promise<void>;
}

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
    const period = cache.latest(key).budget?.period ?? "1M";
    const now = clock.now();
    let spent: number;
    try {
      spent = await casUpdate(store, usageKey(key.id), (current) => {
        const state = parseUsage(current);
        const next = usageDecider.decide(state, {
          kind: "record",
          now,
          tokens: promptTokens + completionTokens,
          costNanoUsd: cost,
          period,
        }).reduce(usageDecider.evolve, state);
        return { write: next, result: next.spentNanoUsd };
      });
      health.recovered();
    } catch (err) {
      health.failed("spend recording", err);
      return;
    }
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
    });
  }

  return {
    charge(key, requestId, served, usage) {
      const p = record(key, requestId, served, usage).catch((err) =>
        logger.error("virtual keys: charging failed", { virtualKey: key.id, error: String(err) })
      );
      charges.add(p);
      return p.finally(() => charges.delete(p));
    },
    async drain(ms) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all([...charges]),
        new Promise((r) => timer = setTimeout(r, ms)),
      ]);
      clearTimeout(timer);
    },
  };
}

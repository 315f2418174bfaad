// What the admin API shows of a level's usage: the minute window, the spend in the budget period,
// what remains of the budget, and null when the store cannot answer. Clock injected.
import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { StoreUnavailable } from "../../src/governance/store.ts";
import type { KeyStore } from "../../src/governance/store.ts";
import { type UsageState } from "../../src/governance/usage.ts";
import { usageView } from "../../src/governance/usage_view.ts";

const t = (s: string) => Date.parse(s);
// A Wednesday, 13:14:15 in March 2025.
const NOW = t("2025-03-05T13:14:15.000Z");
const clock = { now: () => NOW };

async function storeWith(entry: string, state: UsageState): Promise<KeyStore> {
  const store = createMemoryKeyStore();
  assert.equal(typeof (await store.put(entry, state, 0)), "number");
  return store;
}

const thisMinute: UsageState = {
  windowStart: t("2025-03-05T13:14:00.000Z"),
  requests: 3,
  tokens: 420,
  period: "1d",
  periodStart: t("2025-03-05T00:00:00.000Z"),
  spentNanoUsd: 2_500_000_000, // $2.50
};

Deno.test("usageView: the current minute's requests and tokens, resetting at the next minute", async () => {
  const store = await storeWith("usage.k1", thisMinute);
  const v = await usageView(store, clock, "usage.k1", { usd: 10, period: "1d" });
  assert.deepEqual(v?.minute, {
    requests: 3,
    tokens: 420,
    resets_at: "2025-03-05T13:15:00.000Z",
  });
});

Deno.test("usageView: a past minute's counters show as zero", async () => {
  const store = await storeWith("usage.k1", {
    ...thisMinute,
    windowStart: t("2025-03-05T13:13:00.000Z"),
  });
  const v = await usageView(store, clock, "usage.k1", undefined);
  assert.deepEqual(v?.minute, { requests: 0, tokens: 0, resets_at: "2025-03-05T13:15:00.000Z" });
});

Deno.test("usageView: spend in the budget's period with what remains of it", async () => {
  const store = await storeWith("usage.k1", thisMinute);
  const v = await usageView(store, clock, "usage.k1", { usd: 10, period: "1d" });
  assert.deepEqual(v?.spend, {
    period: "1d",
    period_start: "2025-03-05T00:00:00.000Z",
    resets_at: "2025-03-06T00:00:00.000Z",
    spent_usd: 2.5,
    budget_usd: 10,
    remaining_usd: 7.5,
  });
});

Deno.test("usageView: overspent budget leaves zero remaining, never negative", async () => {
  const store = await storeWith("usage.k1", { ...thisMinute, spentNanoUsd: 12_000_000_000 });
  const v = await usageView(store, clock, "usage.k1", { usd: 10, period: "1d" });
  assert.equal(v?.spend.spent_usd, 12);
  assert.equal(v?.spend.remaining_usd, 0);
});

Deno.test("usageView: a weekly budget's period starts on Monday", async () => {
  const store = await storeWith("usage.k1", {
    ...thisMinute,
    period: "1w",
    periodStart: t("2025-03-03T00:00:00.000Z"),
  });
  const v = await usageView(store, clock, "usage.k1", { usd: 5, period: "1w" });
  assert.equal(v?.spend.period_start, "2025-03-03T00:00:00.000Z");
  assert.equal(v?.spend.resets_at, "2025-03-10T00:00:00.000Z");
  assert.equal(v?.spend.spent_usd, 2.5);
  assert.equal(v?.spend.remaining_usd, 2.5);
});

Deno.test("usageView: spend from another period (or period kind) counts as zero", async () => {
  const yesterday = await storeWith("usage.k1", {
    ...thisMinute,
    periodStart: t("2025-03-04T00:00:00.000Z"),
  });
  const a = await usageView(yesterday, clock, "usage.k1", { usd: 10, period: "1d" });
  assert.equal(a?.spend.spent_usd, 0);
  assert.equal(a?.spend.remaining_usd, 10);

  // Spend recorded under a daily budget is not this month's spend once the budget is gone.
  const daily = await storeWith("usage.k1", thisMinute);
  const b = await usageView(daily, clock, "usage.k1", undefined);
  assert.equal(b?.spend.period, "1M");
  assert.equal(b?.spend.spent_usd, 0);
});

Deno.test("usageView: without a budget, the calendar month and no budget figures", async () => {
  const store = await storeWith("usage.k1", {
    ...thisMinute,
    period: "1M",
    periodStart: t("2025-03-01T00:00:00.000Z"),
  });
  const v = await usageView(store, clock, "usage.k1", undefined);
  assert.deepEqual(v?.spend, {
    period: "1M",
    period_start: "2025-03-01T00:00:00.000Z",
    resets_at: "2025-04-01T00:00:00.000Z",
    spent_usd: 2.5,
    budget_usd: null,
    remaining_usd: null,
  });
});

Deno.test("usageView: an entry never written is zero usage, the whole budget remaining", async () => {
  const v = await usageView(createMemoryKeyStore(), clock, "usage.none", { usd: 3, period: "1M" });
  assert.deepEqual(v, {
    minute: { requests: 0, tokens: 0, resets_at: "2025-03-05T13:15:00.000Z" },
    spend: {
      period: "1M",
      period_start: "2025-03-01T00:00:00.000Z",
      resets_at: "2025-04-01T00:00:00.000Z",
      spent_usd: 0,
      budget_usd: 3,
      remaining_usd: 3,
    },
  });
});

Deno.test("usageView: reads the entry it is given, not another", async () => {
  const store = await storeWith("usage.team.a", thisMinute);
  const other = await usageView(store, clock, "usage.team.b", undefined);
  assert.equal(other?.minute.requests, 0);
  const own = await usageView(store, clock, "usage.team.a", undefined);
  assert.equal(own?.minute.requests, 3);
});

Deno.test("usageView: a store that throws gives null", async () => {
  const down: KeyStore = {
    ...createMemoryKeyStore(),
    get: () => Promise.reject(new StoreUnavailable("NATS down")),
  };
  assert.equal(await usageView(down, clock, "usage.k1", { usd: 1, period: "1d" }), null);
});

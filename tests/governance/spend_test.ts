// Charging through the governor: cost from pricing, the budget it fills, and unpriced models.
import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { type KeyStore, StoreUnavailable } from "../../src/governance/store.ts";
import { created, ofType, plan, setup, T0 } from "./_governor.ts";

Deno.test("spend: charged from usage and pricing; over budget is a 402 until the next day", async () => {
  const { g, clock, events } = setup();
  const { view, secret } = await created(g, { budget: { usd: 10, period: "1d" } });
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  const key = auth.key;
  const served = { provider: "openai", model: "gpt-4o-mini" };
  assert.ok((await g.admit(key, "r1", "gpt-4o-mini", plan("gpt-4o-mini"))).ok);
  await g.charge(key, "r1", served, { promptTokens: 3, completionTokens: 2 });
  const spend = ofType(events, "key.spend")[0];
  // 3 × $1 + 2 × $2
  assert.equal(spend.costUsd, 7);
  assert.equal(spend.periodSpentUsd, 7);
  assert.equal(spend.budgetUsd, 10);
  assert.equal(spend.priced, true);
  assert.ok((await g.admit(key, "r2", "gpt-4o-mini", plan("gpt-4o-mini"))).ok, "$7 of $10");
  await g.charge(key, "r2", served, { promptTokens: 3, completionTokens: 0 });
  const over = await g.admit(key, "r3", "gpt-4o-mini", plan("gpt-4o-mini"));
  assert.ok(!over.ok);
  assert.equal(over.status, 402);
  assert.equal(over.code, "budget_exceeded");
  assert.equal(over.retryAfterMs, Date.parse("2025-03-06T00:00:00.000Z") - T0);
  assert.match(over.message, /budget of \$10 for this day/);

  const usage = await g.getKey(view.id);
  assert.ok(usage.ok);
  assert.equal(usage.value.usage?.spend.spent_usd, 10);
  assert.equal(usage.value.usage?.spend.remaining_usd, 0);
  assert.equal(usage.value.usage?.spend.resets_at, "2025-03-06T00:00:00.000Z");

  clock.t = Date.parse("2025-03-06T00:00:00.000Z");
  assert.ok((await g.admit(key, "r4", "gpt-4o-mini", plan("gpt-4o-mini"))).ok, "a new day");
});

Deno.test("a model without a price counts as $0 and is logged once", async () => {
  const { g, events, logs } = setup();
  const { secret } = await created(g);
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  for (const id of ["r1", "r2"]) {
    await g.charge(auth.key, id, { provider: "openai", model: "o3" }, {
      promptTokens: 5,
      completionTokens: 5,
    });
  }
  assert.deepEqual(ofType(events, "key.spend").map((e) => [e.costUsd, e.priced]), [
    [0, false],
    [0, false],
  ]);
  assert.equal(logs.filter((l) => l.includes("no pricing")).length, 1);
});

Deno.test("a spend write that landed but whose acknowledgement was lost is counted once", async () => {
  const inner = createMemoryKeyStore();
  let lose = false;
  const store: KeyStore = {
    ...inner,
    async put(key, value, revision) {
      const out = await inner.put(key, value, revision);
      // The write is applied, then the connection drops before its answer arrives.
      if (lose && key.startsWith("usage.") && out !== undefined) {
        lose = false;
        throw new StoreUnavailable("connection lost before the acknowledgement");
      }
      return out;
    },
  };
  const { g, events } = setup({ store });
  const { view, secret } = await created(g);
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  const served = { provider: "openai", model: "gpt-4o-mini" };
  lose = true;
  await g.charge(auth.key, "r1", served, { promptTokens: 3, completionTokens: 2 });
  await g.charge(auth.key, "r2", served, { promptTokens: 1, completionTokens: 0 });
  assert.deepEqual(ofType(events, "key.spend").map((e) => [e.costUsd, e.periodSpentUsd]), [
    [7, 7],
    [1, 8],
  ]);
  const usage = await g.getKey(view.id);
  assert.ok(usage.ok);
  assert.equal(usage.value.usage?.spend.spent_usd, 8);
});

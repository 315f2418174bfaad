// Hierarchical budgets through the governor: a key's spend counts toward its team and the team's
// customer, and a request is refused when any level is over its budget (402) or limits (429),
// the message and the key.denied event naming the level.
import assert from "node:assert/strict";
import { levelsOf, levelUsageKey } from "../../src/governance/levels.ts";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { CONFIG_SECRET, created, ofType, plan, setup, T0 } from "./_governor.ts";

const served = { provider: "openai", model: "gpt-4o-mini" };
const model = "openai/gpt-4o-mini";

async function hierarchy(
  g: ReturnType<typeof setup>["g"],
  team: Record<string, unknown> = {},
  customer: Record<string, unknown> = {},
) {
  const c = await g.createLevel("customer", { name: "acme", ...customer } as never);
  assert.ok(c.ok);
  const t = await g.createLevel("team", { name: "search", customer: c.value.id, ...team } as never);
  assert.ok(t.ok);
  return { customer: c.value.id, team: t.value.id };
}

async function keyIn(g: ReturnType<typeof setup>["g"], team: string, extra = {}) {
  const { view, secret } = await created(g, { team, ...extra });
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  return { id: view.id, key: auth.key };
}

Deno.test("spend through two keys of one team adds up at the team and at its customer", async () => {
  const { g, events } = setup();
  const ids = await hierarchy(g);
  const one = await keyIn(g, ids.team);
  const two = await keyIn(g, ids.team);
  await g.charge(one.key, "r1", served, { promptTokens: 3, completionTokens: 0 });
  await g.charge(two.key, "r2", served, { promptTokens: 4, completionTokens: 0 });
  const team = await g.getLevel("team", ids.team);
  const customer = await g.getLevel("customer", ids.customer);
  assert.ok(team.ok && customer.ok);
  assert.equal(team.value.usage?.spend.spent_usd, 7);
  assert.equal(customer.value.usage?.spend.spent_usd, 7);
  assert.equal(team.value.usage?.minute.tokens, 7);
  const k2 = await g.getKey(two.id);
  assert.ok(k2.ok);
  assert.equal(k2.value.usage?.spend.spent_usd, 4, "each key keeps its own spend");
  assert.deepEqual(
    ofType(events, "key.spend").map((e) => [e.virtualKey, e.team, e.customer, e.periodSpentUsd]),
    [[one.id, ids.team, ids.customer, 3], [two.id, ids.team, ids.customer, 4]],
  );
});

Deno.test("a team over its budget refuses a key with budget left: 402 naming the team", async () => {
  const { g, clock, events } = setup();
  const ids = await hierarchy(g, { budget: { usd: 5, period: "1M" } });
  const { id, key } = await keyIn(g, ids.team, { budget: { usd: 100, period: "1M" } });
  assert.ok((await g.admit(key, "r1", model, plan(model))).ok);
  await g.charge(key, "r1", served, { promptTokens: 5, completionTokens: 0 });
  const over = await g.admit(key, "r2", model, plan(model));
  assert.ok(!over.ok);
  assert.equal(over.status, 402);
  assert.equal(over.code, "budget_exceeded");
  assert.match(over.message, /team "search" is over its monthly budget of \$5/);
  assert.equal(over.retryAfterMs, Date.parse("2025-04-01T00:00:00.000Z") - T0);
  const denied = ofType(events, "key.denied").at(-1)!;
  assert.deepEqual(
    [denied.reason, denied.level, denied.virtualKey, denied.team, denied.customer],
    ["over_budget", "team", id, ids.team, ids.customer],
  );
  // Raising the team's budget (a PATCH) lets the key through again at once.
  assert.ok((await g.updateLevel("team", ids.team, { budget: { usd: 50, period: "1M" } })).ok);
  assert.ok((await g.admit(key, "r3", model, plan(model))).ok);
  // Next month the spend starts over.
  assert.ok((await g.updateLevel("team", ids.team, { budget: { usd: 5, period: "1M" } })).ok);
  assert.equal((await g.admit(key, "r4", model, plan(model))).ok, false);
  clock.t = Date.parse("2025-04-01T00:00:01.000Z");
  assert.ok((await g.admit(key, "r5", model, plan(model))).ok);
});

Deno.test("a customer over its rpm refuses every team's keys: 429 naming the customer", async () => {
  const { g, clock, events, store } = setup();
  const ids = await hierarchy(g, { limits: { rpm: 10 } }, { limits: { rpm: 2 } });
  const other = await g.createLevel("team", { name: "ads", customer: ids.customer } as never);
  assert.ok(other.ok);
  const a = await keyIn(g, ids.team, { limits: { rpm: 10 } });
  const b = await keyIn(g, other.value.id);
  assert.ok((await g.admit(a.key, "r1", model, plan(model))).ok);
  assert.ok((await g.admit(b.key, "r2", model, plan(model))).ok);
  const refused = await g.admit(a.key, "r3", model, plan(model));
  assert.ok(!refused.ok);
  assert.equal(refused.status, 429);
  assert.equal(refused.retryAfterMs, 45_000);
  assert.match(refused.message, /customer "acme" is over its rpm limit \(2 of 2 this minute\)/);
  assert.equal(ofType(events, "key.denied").at(-1)!.level, "customer");
  // The refused request was not counted at the key or its team (every level is checked first).
  const keyUsage = (await store.get(levelUsageKey({ kind: "key", id: a.id })))?.value as {
    requests: number;
  };
  assert.equal(keyUsage.requests, 1);
  const team = await g.getLevel("team", ids.team);
  assert.ok(team.ok);
  assert.equal(team.value.usage?.minute.requests, 1);
  clock.t = T0 + 45_000;
  assert.ok((await g.admit(b.key, "r4", model, plan(model))).ok, "a new minute");
});

Deno.test("levels: a key's chain is key, team, customer; a deleted team no longer counts", async () => {
  const { g, store } = setup();
  const ids = await hierarchy(g, { budget: { usd: 0, period: "1d" } });
  const { id, key } = await keyIn(g, ids.team);
  assert.deepEqual((await levelsOf(store, key)).map((l) => [l.kind, l.name]), [
    ["key", "team-a"],
    ["team", "search"],
    ["customer", "acme"],
  ]);
  assert.equal((await g.admit(key, "r1", model, plan(model))).ok, false, "a $0 team budget");
  // In use: refused; once the key leaves the team it can go, and the key is admitted again.
  const inUse = await g.deleteLevel("team", ids.team);
  assert.ok(!inUse.ok);
  assert.equal(inUse.status, 409);
  assert.equal((await g.deleteLevel("customer", ids.customer)).ok, false, "the team names it");
  assert.ok((await g.updateKey(id, { team: null })).ok);
  assert.ok((await g.deleteLevel("team", ids.team)).ok);
  assert.ok((await g.deleteLevel("customer", ids.customer)).ok);
  assert.ok((await g.admit(key, "r2", model, plan(model))).ok);
  assert.equal((await g.getLevel("team", ids.team)).ok, false);
  assert.deepEqual(await g.listLevels("team"), []);
});

Deno.test("a team naming an unknown customer, or a key an unknown team, is a 400 naming the field", async () => {
  const { g } = setup();
  const team = await g.createLevel("team", { name: "x", customer: "nope" } as never);
  assert.ok(!team.ok);
  assert.deepEqual([team.status, team.code, team.param], [400, "unknown_customer", "customer"]);
  const key = await g.createKey({
    name: "k",
    providers: [{ provider: "openai", weight: 1 }],
    team: "nope",
  });
  assert.ok(!key.ok);
  assert.deepEqual([key.status, key.code, key.param], [400, "unknown_team", "team"]);
});

Deno.test("a key declared in gateway.json may name a team: its budget applies; an unknown team is warned about", async () => {
  const store = createMemoryKeyStore();
  const team = await setup({ store }).g.createLevel("team", {
    name: "batch-team",
    budget: { usd: 1, period: "1d" },
  });
  assert.ok(team.ok);
  const { g, logs } = setup({ store, declared: true, declaredTeam: team.value.id });
  assert.equal(await g.loaded(), true);
  const auth = await g.authenticate(CONFIG_SECRET, "r0");
  assert.ok(auth.ok && auth.key);
  assert.ok((await g.admit(auth.key, "r1", "gpt-4o-mini", plan("gpt-4o-mini"))).ok);
  // 2 prompt tokens at $1 each: over the team's $1.
  await g.charge(auth.key, "r1", { provider: "openai", model: "gpt-4o-mini" }, {
    promptTokens: 2,
    completionTokens: 0,
  });
  const over = await g.admit(auth.key, "r2", "gpt-4o-mini", plan("gpt-4o-mini"));
  assert.ok(!over.ok);
  assert.equal(over.status, 402);
  assert.match(over.message, /team "batch-team"/);
  assert.equal(logs.some((l) => l.includes("does not exist")), false);

  const typo = setup({ store, declared: true, declaredTeam: "no-such-team" });
  await typo.g.loaded();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(typo.logs.filter((l) => l.includes("names a team that does not exist")).length, 1);
});

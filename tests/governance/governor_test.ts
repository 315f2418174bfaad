// The governor with an in-memory store, an injected clock and a recorded event stream.
import assert from "node:assert/strict";
import type { EventOf, GatewayEvent } from "../../src/events/mod.ts";
import { createGovernor, type GovernorDeps } from "../../src/governance/governor.ts";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { type KeyStore, StoreUnavailable } from "../../src/governance/store.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { createPlanner } from "../../src/routing/plan.ts";

const T0 = Date.parse("2025-03-05T13:14:15.000Z");
const CONFIG_SECRET = "declared-secret-0123456789";

function setup(opts: {
  declared?: boolean;
  store?: KeyStore;
  admin?: boolean;
  syncWaitMs?: number;
} = {}) {
  const clock = {
    t: T0,
    now() {
      return this.t;
    },
  };
  const events: GatewayEvent[] = [];
  const logs: string[] = [];
  const store = opts.store ?? createMemoryKeyStore();
  const config = {
    providers: { openai: {}, azure: {} },
    routes: {},
    pricing: { "openai/gpt-4o-mini": { inputPerMTok: 1_000_000, outputPerMTok: 2_000_000 } },
    virtualKeys: opts.declared
      ? [{
        id: "cfg-batch",
        name: "batch",
        secret: CONFIG_SECRET,
        env: "BATCH_KEY",
        providers: [{ provider: "azure", weight: 1 }],
      }]
      : [],
    adminKey: opts.admin === false ? undefined : "adm",
  } as unknown as GovernorDeps["config"];
  const g = createGovernor({
    config,
    store,
    clock,
    publish: (e) => events.push(e),
    logger: createLogger("info", (l) => logs.push(l)),
    syncWaitMs: opts.syncWaitMs,
  });
  return { g, clock, events, logs, store };
}

/** What the gateway's planner gives a key for `model` (the config's providers, no routes). */
const planner = createPlanner({
  config: { providers: { openai: {}, azure: {} }, routes: {} },
  random: () => 0,
});
const plan = (model: string) => (key: Parameters<typeof planner>[1]) => planner({ model }, key);

const fields = (extra: Record<string, unknown> = {}) => ({
  name: "team-a",
  providers: [{ provider: "openai", weight: 1 }],
  ...extra,
});

async function created(g: ReturnType<typeof setup>["g"], extra: Record<string, unknown> = {}) {
  const r = await g.createKey(fields(extra) as never);
  assert.ok(r.ok);
  return r.value;
}

const ofType = <T extends GatewayEvent["type"]>(events: GatewayEvent[], type: T) =>
  events.filter((e): e is EventOf<T> => e.type === type);

Deno.test("open until a key exists; a revoked key keeps keys required", async () => {
  const { g } = setup();
  assert.deepEqual(await g.authenticate(undefined, "r1"), { ok: true });
  assert.equal(g.required(), false);
  const { view } = await created(g);
  assert.equal(g.required(), true);
  assert.equal((await g.authenticate(undefined, "r2")).ok, false);
  await g.revokeKey(view.id);
  assert.equal(g.required(), true);
  const r = await g.authenticate(undefined, "r3");
  assert.ok(!r.ok && r.status === 401);
});

Deno.test("authentication: the secret, a wrong secret for the same id, revoked, declared keys", async () => {
  const { g, events } = setup({ declared: true });
  const { view, secret } = await created(g);
  const ok = await g.authenticate(secret, "r1");
  assert.ok(ok.ok && ok.key?.id === view.id);

  const forged = secret.slice(0, -4) + (secret.endsWith("AAAA") ? "BBBB" : "AAAA");
  const cases: [string | undefined, string][] = [
    [undefined, "missing_api_key"],
    ["", "missing_api_key"],
    [forged, "invalid_api_key"],
    ["sk-openai-real-key", "invalid_api_key"],
    [CONFIG_SECRET + "x", "invalid_api_key"],
  ];
  for (const [credential, code] of cases) {
    const r = await g.authenticate(credential, "r");
    assert.ok(!r.ok, String(credential));
    assert.equal(r.status, 401);
    assert.equal(r.code, code, String(credential));
    assert.equal(r.authenticate, true);
  }
  const declared = await g.authenticate(CONFIG_SECRET, "r4");
  assert.ok(declared.ok && declared.key?.id === "cfg-batch");

  await g.revokeKey(view.id);
  const revoked = await g.authenticate(secret, "r5");
  assert.ok(!revoked.ok && revoked.code === "revoked_api_key");
  assert.deepEqual(
    ofType(events, "key.denied").map((e) => e.reason),
    ["unknown", "unknown", "unknown", "unknown", "unknown", "revoked"],
  );
  const text = JSON.stringify(events);
  assert.ok(!text.includes(secret) && !text.includes(CONFIG_SECRET), "no secret in events");
});

Deno.test("the store holds a salted digest, never the secret", async () => {
  const { g, store } = setup();
  const a = await created(g);
  const b = await created(g, { name: "team-b" });
  const stored = JSON.stringify([...await store.list("")]);
  for (const { secret } of [a, b]) {
    assert.ok(!stored.includes(secret));
    assert.ok(!stored.includes(secret.slice(secret.lastIndexOf("-") + 1)));
  }
  const records = [...(await store.list("key.")).values()].map((e) =>
    e.value as { salt: string; hash: string }
  );
  assert.equal(records.length, 2);
  assert.notEqual(records[0].salt, records[1].salt, "a salt per key");
  for (const r of records) assert.match(r.hash, /^[0-9a-f]{64}$/);
});

Deno.test("rpm: refused with the time left in the minute, admitted again the next minute", async () => {
  const { g, clock, events } = setup();
  const { view, secret } = await created(g, { limits: { rpm: 2 } });
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  const policy = auth.key;
  assert.ok((await g.admit(policy, "r1", "openai/gpt-4o-mini", plan("openai/gpt-4o-mini"))).ok);
  assert.ok((await g.admit(policy, "r2", "openai/gpt-4o-mini", plan("openai/gpt-4o-mini"))).ok);
  const refused = await g.admit(policy, "r3", "openai/gpt-4o-mini", plan("openai/gpt-4o-mini"));
  assert.ok(!refused.ok);
  assert.equal(refused.status, 429);
  assert.equal(refused.retryAfterMs, 45_000);
  clock.t = T0 + 45_000;
  assert.ok((await g.admit(policy, "r4", "openai/gpt-4o-mini", plan("openai/gpt-4o-mini"))).ok);
  const d = ofType(events, "key.denied");
  assert.deepEqual(d.map((e) => [e.reason, e.status, e.virtualKey, e.retryAfterMs]), [
    ["rate_limited", 429, view.id, 45_000],
  ]);
});

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

Deno.test("a PATCH applies to the next request; the chain is planned with the latest policy", async () => {
  const { g } = setup();
  const { view, secret } = await created(g);
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  const before = await g.admit(auth.key, "r1", "gpt-4o", plan("gpt-4o"));
  assert.ok(before.ok);
  assert.deepEqual(before.candidates, [{ provider: "openai", model: "gpt-4o" }]);
  const patched = await g.updateKey(view.id, {
    providers: [{ provider: "azure", models: ["gpt-4o"], weight: 1 }],
  });
  assert.ok(patched.ok);
  const after = await g.admit(auth.key, "r2", "gpt-4o", plan("gpt-4o"));
  assert.ok(after.ok);
  assert.deepEqual(after.candidates, [{ provider: "azure", model: "gpt-4o" }]);
  const denied = await g.admit(auth.key, "r3", "openai/gpt-4o", plan("openai/gpt-4o"));
  assert.ok(!denied.ok && denied.status === 403);
});

Deno.test("admin operations refuse what they cannot do", async () => {
  const { g } = setup({ declared: true });
  const bad = await g.createKey(fields({ providers: [{ provider: "nope", weight: 1 }] }) as never);
  assert.ok(!bad.ok && bad.status === 400 && bad.code === "unknown_provider");
  assert.deepEqual(await g.getKey("nope").then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.updateKey("nope", { name: "x" }).then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.revokeKey("nope").then((r) => !r.ok && r.status), 404);
  assert.deepEqual(await g.revokeKey("cfg-batch").then((r) => !r.ok && r.status), 409);
  assert.deepEqual(
    await g.updateKey("cfg-batch", { name: "x" }).then((r) => !r.ok && r.status),
    409,
  );
  const { view } = await created(g);
  await g.revokeKey(view.id);
  const again = await g.revokeKey(view.id);
  assert.ok(again.ok && again.value.revoked, "revoking twice is fine");
  assert.deepEqual(
    await g.updateKey(view.id, { name: "x" }).then((r) => !r.ok && r.code),
    "key_revoked",
  );
  const list = await g.listKeys();
  assert.deepEqual(list.map((k) => [k.id, k.source, k.revoked]), [
    ["cfg-batch", "config", false],
    [view.id, "admin", true],
  ]);
});

Deno.test("a store that fails during admission lets requests through and says so once", async () => {
  const inner = createMemoryKeyStore();
  let broken = false;
  const flaky: KeyStore = {
    ...inner,
    get: (k) => broken ? Promise.reject(new StoreUnavailable("down")) : inner.get(k),
  };
  const { g, logs } = setup({ store: flaky });
  const { secret } = await created(g, { limits: { rpm: 1 } });
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  broken = true;
  for (const id of ["r1", "r2", "r3"]) assert.ok((await g.admit(auth.key, id, "m", plan("m"))).ok);
  assert.equal(logs.filter((l) => l.includes("limits not enforced")).length, 1);
  broken = false;
  assert.ok((await g.admit(auth.key, "r4", "m", plan("m"))).ok);
  assert.equal((await g.admit(auth.key, "r5", "m", plan("m"))).ok, false, "enforced again");
  assert.equal(logs.filter((l) => l.includes("reachable again")).length, 1);
});

Deno.test("a store that cannot be loaded at start: 503, unless keys are declared in config", async () => {
  const down: KeyStore = {
    ...createMemoryKeyStore(),
    kind: "nats",
    describe: "NATS KV bucket GATEWAY_KEYS",
    list: () => Promise.reject(new StoreUnavailable("down")),
    watch: () => Promise.reject(new StoreUnavailable("down")),
  };
  const { g } = setup({ store: down, syncWaitMs: 50 });
  const r = await g.authenticate("anything", "r1");
  assert.ok(!r.ok);
  assert.equal(r.status, 503);
  assert.equal(r.code, "key_store_unavailable");
  assert.match(g.describe()[0], /loading stored keys from NATS KV bucket GATEWAY_KEYS/);
  await g.close();

  const withDeclared = setup({ store: down, syncWaitMs: 50, declared: true });
  const ok = await withDeclared.g.authenticate(CONFIG_SECRET, "r2");
  assert.ok(ok.ok && ok.key?.id === "cfg-batch");
  await withDeclared.g.close();
});

Deno.test("start-up lines: open, required, and the admin API's state", async () => {
  const open = setup({ admin: false });
  assert.deepEqual(open.g.describe(), [
    "virtual keys: none — the gateway is open; set GATEWAY_ADMIN_KEY and POST /admin/keys to require keys",
    "admin API: off (set GATEWAY_ADMIN_KEY to manage virtual keys over HTTP)",
  ]);
  const declared = setup({ declared: true });
  await declared.g.loaded();
  await created(declared.g);
  assert.deepEqual(declared.g.describe(), [
    "virtual keys: required — 1 from config (batch), 1 in in-process store (NATS_URL not set)",
    "admin API: /admin/keys (Authorization: Bearer $GATEWAY_ADMIN_KEY)",
  ]);
  assert.ok(!declared.g.describe().join(" ").includes(CONFIG_SECRET));
});

// The customer and team admin operations against the memory store, without HTTP: what is stored,
// the views, unknown customers (400 naming the field), not-found (404), in use (409), tombstones.
import assert from "node:assert/strict";
import type { VirtualKeyConfig } from "../../src/governance/config_keys.ts";
import type { KeyRecord } from "../../src/governance/keys.ts";
import { createLevelAdmin } from "../../src/governance/levels_admin.ts";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import type { KeyStore } from "../../src/governance/store.ts";
import { silentLogger } from "../../src/lib/logger.ts";

const T0 = Date.parse("2025-03-05T13:14:15.000Z");

function setup(
  keys: Partial<KeyRecord>[] = [],
  store: KeyStore = createMemoryKeyStore(),
  declared: Partial<VirtualKeyConfig>[] = [],
) {
  const clock = {
    t: T0,
    now() {
      return this.t;
    },
  };
  const admin = createLevelAdmin({
    cache: {
      allStored: () => Promise.resolve(keys as KeyRecord[]),
      declared: declared as VirtualKeyConfig[],
    },
    store,
    clock,
    logger: silentLogger,
  });
  return { admin, store, clock };
}

function ok<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.message}`);
  return r.value;
}

Deno.test("createLevel: stores a customer record under customer.<id> and returns its view", async () => {
  const { admin, store } = setup();
  const c = ok(
    await admin.createLevel("customer", {
      name: "acme",
      budget: { usd: 100, period: "1M" },
      limits: { rpm: 60 },
    }),
  );
  assert.match(c.id, /^[0-9a-f]{16}$/);
  assert.deepEqual(c, {
    id: c.id,
    object: "customer",
    name: "acme",
    budget: { usd: 100, period: "1M" },
    limits: { rpm: 60 },
    created_at: "2025-03-05T13:14:15.000Z",
    updated_at: "2025-03-05T13:14:15.000Z",
  });
  assert.deepEqual((await store.get(`customer.${c.id}`))?.value, {
    id: c.id,
    kind: "customer",
    name: "acme",
    budget: { usd: 100, period: "1M" },
    limits: { rpm: 60 },
    createdAt: T0,
    updatedAt: T0,
  });
});

Deno.test("createLevel: two creations get different ids", async () => {
  const { admin } = setup();
  const a = ok(await admin.createLevel("customer", { name: "a" }));
  const b = ok(await admin.createLevel("customer", { name: "b" }));
  assert.notEqual(a.id, b.id);
});

Deno.test("createLevel: a team keeps its customer; a customer never stores one", async () => {
  const { admin, store } = setup();
  const c = ok(await admin.createLevel("customer", { name: "acme", customer: "x" }));
  assert.equal("customer" in c, false);
  assert.equal(
    "customer" in ((await store.get(`customer.${c.id}`))?.value as object),
    false,
  );
  const t = ok(await admin.createLevel("team", { name: "search", customer: c.id }));
  assert.equal(t.customer, c.id);
  const lone = ok(await admin.createLevel("team", { name: "lone" }));
  assert.equal(lone.customer, null);
});

Deno.test("createLevel: a team naming an unknown (or deleted) customer is a 400 on `customer`", async () => {
  const { admin, store } = setup();
  const r = await admin.createLevel("team", { name: "t", customer: "nope" });
  assert.ok(!r.ok);
  assert.deepEqual([r.status, r.code, r.param], [400, "unknown_customer", "customer"]);
  assert.match(r.message, /^customer: no customer with id "nope"/);
  assert.equal((await store.list("team.")).size, 0, "nothing stored");

  const c = ok(await admin.createLevel("customer", { name: "gone" }));
  ok(await admin.deleteLevel("customer", c.id));
  const again = await admin.createLevel("team", { name: "t", customer: c.id });
  assert.ok(!again.ok);
  assert.equal(again.code, "unknown_customer");
});

Deno.test("getLevel: the view with usage; unknown or wrong kind is a 404 naming the kind", async () => {
  const { admin } = setup();
  const c = ok(
    await admin.createLevel("customer", { name: "acme", budget: { usd: 7, period: "1d" } }),
  );
  const got = ok(await admin.getLevel("customer", c.id));
  assert.equal(got.name, "acme");
  assert.equal(got.usage?.spend.budget_usd, 7);
  assert.equal(got.usage?.spend.remaining_usd, 7);
  assert.equal(got.usage?.spend.period_start, "2025-03-05T00:00:00.000Z");

  const missing = await admin.getLevel("team", c.id);
  assert.ok(!missing.ok);
  assert.deepEqual([missing.status, missing.code], [404, "team_not_found"]);
  assert.match(missing.message, new RegExp(`No team with id "${c.id}"`));
});

Deno.test("getLevel: usage is null when the usage entry cannot be read", async () => {
  const inner = createMemoryKeyStore();
  const store: KeyStore = {
    ...inner,
    get: (k) => k.startsWith("usage.") ? Promise.reject(new Error("down")) : inner.get(k),
  };
  const { admin } = setup([], store);
  const t = ok(await admin.createLevel("team", { name: "t" }));
  const got = ok(await admin.getLevel("team", t.id));
  assert.equal(got.usage, null);
  assert.equal(got.name, "t");
});

Deno.test("listLevels: only live levels of that kind, oldest first", async () => {
  const { admin, clock } = setup();
  const first = ok(await admin.createLevel("team", { name: "first" }));
  clock.t += 1_000;
  const second = ok(await admin.createLevel("team", { name: "second" }));
  clock.t += 1_000;
  const gone = ok(await admin.createLevel("team", { name: "gone" }));
  ok(await admin.createLevel("customer", { name: "not a team" }));
  ok(await admin.deleteLevel("team", gone.id));
  const list = await admin.listLevels("team");
  assert.deepEqual(list.map((l) => l.id), [first.id, second.id]);
  assert.ok(list.every((l) => l.usage !== null));
});

Deno.test("updateLevel: changes the named fields, null removes one, updated_at moves", async () => {
  const { admin, clock } = setup();
  const c = ok(await admin.createLevel("customer", { name: "acme" }));
  const t = ok(
    await admin.createLevel("team", {
      name: "search",
      customer: c.id,
      budget: { usd: 5, period: "1d" },
      limits: { tpm: 1000 },
    }),
  );
  clock.t = T0 + 60_000;
  const p = ok(await admin.updateLevel("team", t.id, { name: "find", budget: null }));
  assert.deepEqual(p, {
    ...t,
    name: "find",
    budget: null,
    updated_at: "2025-03-05T13:15:15.000Z",
  });
  const again = ok(await admin.getLevel("team", t.id));
  assert.deepEqual([again.name, again.budget, again.limits, again.customer], [
    "find",
    null,
    { tpm: 1000 },
    c.id,
  ]);
  const freed = ok(await admin.updateLevel("team", t.id, { customer: null }));
  assert.equal(freed.customer, null);
});

Deno.test("updateLevel: unknown id is a 404; a team moved to an unknown customer is a 400", async () => {
  const { admin } = setup();
  const missing = await admin.updateLevel("customer", "nope", { name: "x" });
  assert.ok(!missing.ok);
  assert.deepEqual([missing.status, missing.code], [404, "customer_not_found"]);

  const t = ok(await admin.createLevel("team", { name: "t" }));
  const bad = await admin.updateLevel("team", t.id, { customer: "nope", name: "renamed" });
  assert.ok(!bad.ok);
  assert.deepEqual([bad.status, bad.code, bad.param], [400, "unknown_customer", "customer"]);
  assert.equal(ok(await admin.getLevel("team", t.id)).name, "t", "nothing changed");
});

Deno.test("deleteLevel: a team live keys still name is a 409 naming them; revoked keys do not count", async () => {
  const t0 = setup();
  const team = ok(await t0.admin.createLevel("team", { name: "t" }));
  const { admin } = setup([
    { id: "k1", team: team.id },
    { id: "k2", team: team.id, revokedAt: T0 },
    { id: "k3", team: "other" },
  ], t0.store);
  const r = await admin.deleteLevel("team", team.id);
  assert.ok(!r.ok);
  assert.deepEqual([r.status, r.code], [409, "team_in_use"]);
  assert.match(r.message, /still named by key k1; move or revoke those keys first/);
  assert.doesNotMatch(r.message, /k2|k3/);
  assert.ok(ok(await admin.getLevel("team", team.id)), "still there");

  // A key declared in gateway.json naming the team counts too.
  const { admin: declared } = setup([], t0.store, [{ id: "cfg-batch", team: team.id }]);
  const d = await declared.deleteLevel("team", team.id);
  assert.ok(!d.ok);
  assert.match(d.message, /key cfg-batch \(gateway\.json\)/);

  const { admin: noKeys } = setup([{ id: "k2", team: team.id, revokedAt: T0 }], t0.store);
  ok(await noKeys.deleteLevel("team", team.id));
});

Deno.test("deleteLevel: a customer its teams still name is a 409 naming the teams", async () => {
  const { admin } = setup();
  const c = ok(await admin.createLevel("customer", { name: "acme" }));
  const a = ok(await admin.createLevel("team", { name: "a", customer: c.id }));
  const b = ok(await admin.createLevel("team", { name: "b", customer: c.id }));
  const r = await admin.deleteLevel("customer", c.id);
  assert.ok(!r.ok);
  assert.deepEqual([r.status, r.code], [409, "customer_in_use"]);
  assert.match(r.message, new RegExp(`team ${a.id}`));
  assert.match(r.message, new RegExp(`team ${b.id}`));
  assert.match(r.message, /move or revoke those teams first/);
  // A deleted team no longer holds its customer.
  ok(await admin.deleteLevel("team", a.id));
  ok(await admin.deleteLevel("team", b.id));
  ok(await admin.deleteLevel("customer", c.id));
});

Deno.test("deleteLevel: leaves a tombstone; a second delete, get and update are 404s", async () => {
  const { admin, store, clock } = setup();
  const c = ok(await admin.createLevel("customer", { name: "acme" }));
  clock.t = T0 + 5_000;
  const d = ok(await admin.deleteLevel("customer", c.id));
  assert.equal(d.name, "acme");
  const stone = (await store.get(`customer.${c.id}`))?.value as Record<string, unknown>;
  assert.deepEqual([stone.deletedAt, stone.updatedAt, stone.name], [
    T0 + 5_000,
    T0 + 5_000,
    "acme",
  ]);
  for (
    const r of [
      await admin.deleteLevel("customer", c.id),
      await admin.getLevel("customer", c.id),
      await admin.updateLevel("customer", c.id, { name: "back" }),
    ]
  ) {
    assert.ok(!r.ok);
    assert.deepEqual([r.status, r.code], [404, "customer_not_found"]);
  }
  assert.equal(
    ((await store.get(`customer.${c.id}`))?.value as Record<string, unknown>).name,
    "acme",
    "the update did not revive it",
  );
});

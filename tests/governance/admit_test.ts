// Admission through the governor: rpm against an injected clock, the latest policy planned, and a
// failing store that lets requests through.
import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { type KeyStore, StoreUnavailable } from "../../src/governance/store.ts";
import { created, ofType, plan, setup, T0 } from "./_governor.ts";

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

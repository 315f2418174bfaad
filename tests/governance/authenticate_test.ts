// Authentication through the governor: stored and declared keys, wrong and revoked ones, and a
// store that cannot be loaded.
import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { type KeyStore, StoreUnavailable } from "../../src/governance/store.ts";
import { CONFIG_SECRET, created, ofType, setup } from "./_governor.ts";

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

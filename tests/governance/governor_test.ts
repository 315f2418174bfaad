// The composed governor: its parts work together (keys created by admin make keys required for
// authentication) and close lets charges finish and closes the store.
import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import type { KeyStore } from "../../src/governance/store.ts";
import { created, setup } from "./_governor.ts";

Deno.test("open until a key exists; a revoked key keeps keys required", async () => {
  const { g } = setup();
  assert.deepEqual(await g.authenticate(undefined, "r1"), { ok: true });
  assert.equal(g.required(), false);
  assert.equal(g.open(), true, "loaded and keyless: open, known without awaiting");
  const { view } = await created(g);
  assert.equal(g.required(), true);
  assert.equal(g.open(), false);
  assert.equal((await g.authenticate(undefined, "r2")).ok, false);
  await g.revokeKey(view.id);
  assert.equal(g.required(), true);
  const r = await g.authenticate(undefined, "r3");
  assert.ok(!r.ok && r.status === 401);
});

Deno.test("close waits for a charge still being written, then closes the store", async () => {
  const inner = createMemoryKeyStore();
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let holding = false;
  let storeClosed = false;
  const slow: KeyStore = {
    ...inner,
    put: async (k, v, rev) => {
      if (holding && k.startsWith("usage.")) await held;
      return inner.put(k, v, rev);
    },
    close: () => {
      storeClosed = true;
      return inner.close();
    },
  };
  const { g, events } = setup({ store: slow });
  const { secret } = await created(g);
  const auth = await g.authenticate(secret, "r0");
  assert.ok(auth.ok && auth.key);
  holding = true;
  const charged = g.charge(auth.key, "r1", { provider: "openai", model: "gpt-4o-mini" }, {
    promptTokens: 1,
    completionTokens: 1,
  });
  const closing = g.close();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(storeClosed, false, "the store stays open while a charge is written");
  release();
  await charged;
  await closing;
  assert.equal(storeClosed, true);
  assert.equal(events.filter((e) => e.type === "key.spend").length, 1);
});

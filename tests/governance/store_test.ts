import assert from "node:assert/strict";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { casUpdate, type KeyStore, StoreContention } from "../../src/governance/store.ts";

Deno.test("casUpdate writes what the step decides, and nothing when it decides nothing", async () => {
  const store = createMemoryKeyStore();
  assert.equal(
    await casUpdate(store, "usage.a", (cur) => ({ write: { n: 1 }, result: cur })),
    undefined,
  );
  assert.deepEqual((await store.get("usage.a"))!.value, { n: 1 });
  const seen = await casUpdate(store, "usage.a", (cur) => ({ result: cur }));
  assert.deepEqual(seen, { n: 1 });
  assert.equal((await store.get("usage.a"))!.revision, 1, "no write happened");
});

Deno.test("casUpdate decides again on a lost race, with the other writer's value", async () => {
  const inner = createMemoryKeyStore();
  let raced = false;
  // A store where another replica writes between our read and our write, once.
  const racing: KeyStore = {
    ...inner,
    async put(key, value, revision) {
      if (!raced) {
        raced = true;
        await inner.put(key, { n: 10 }, revision);
      }
      return inner.put(key, value, revision);
    },
  };
  const seen: unknown[] = [];
  await casUpdate(racing, "usage.a", (cur) => {
    seen.push(cur);
    return { write: { n: ((cur as { n: number } | undefined)?.n ?? 0) + 1 }, result: null };
  });
  assert.deepEqual(seen, [undefined, { n: 10 }]);
  assert.deepEqual((await inner.get("usage.a"))!.value, { n: 11 });
});

Deno.test("casUpdate gives up after maxTries lost races", async () => {
  const inner = createMemoryKeyStore();
  const alwaysLoses: KeyStore = { ...inner, put: () => Promise.resolve(undefined) };
  await assert.rejects(
    () => casUpdate(alwaysLoses, "usage.a", () => ({ write: 1, result: 1 }), 4),
    StoreContention,
  );
});

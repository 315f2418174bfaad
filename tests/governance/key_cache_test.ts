// The key cache on its own: loading from the store, revisions deciding what is newer, the latest
// policy, reading a key another replica just made, and a store that cannot be loaded.
import assert from "node:assert/strict";
import { createKeyCache, recordKey } from "../../src/governance/key_cache.ts";
import type { KeyRecord } from "../../src/governance/keys.ts";
import { createMemoryKeyStore } from "../../src/governance/memory_store.ts";
import { type KeyStore, StoreUnavailable } from "../../src/governance/store.ts";
import { createLogger } from "../../src/lib/logger.ts";

const record = (id: string, name: string, createdAt = 1): KeyRecord =>
  ({
    id,
    name,
    providers: [{ provider: "openai", weight: 1 }],
    createdAt,
    updatedAt: createdAt,
    salt: "s",
    hash: "0".repeat(64),
  }) as KeyRecord;

const cacheOn = (store: KeyStore, logs: string[] = [], syncWaitMs?: number) =>
  createKeyCache({
    store,
    logger: createLogger("info", (l) => logs.push(l)),
    declared: [],
    syncWaitMs,
  });

Deno.test("stored keys load at start; a key makes keys required", async () => {
  const store = createMemoryKeyStore();
  await store.put(recordKey("a"), record("a", "team-a"), 0);
  const cache = cacheOn(store);
  assert.equal(await cache.loaded(), true);
  assert.equal(cache.synced(), true);
  assert.equal(cache.size(), 1);
  assert.equal(cache.required(), true);
  cache.stop();
  await cache.settled;
  await store.close();
});

Deno.test("an older revision never replaces a newer one; a deleted entry leaves the cache", async () => {
  const store = createMemoryKeyStore();
  const cache = cacheOn(store);
  await cache.loaded();
  cache.apply(recordKey("a"), { value: record("a", "new"), revision: 5 });
  cache.apply(recordKey("a"), { value: record("a", "old"), revision: 4 });
  const given = record("a", "given");
  assert.equal(cache.latest(given).name, "new");
  cache.apply(recordKey("a"), undefined);
  assert.equal(cache.latest(given).name, "given", "unknown to the cache: the key as given");
  assert.equal(cache.required(), false);
  cache.stop();
  await cache.settled;
  await store.close();
});

Deno.test("a key made on another replica is read from the store and kept", async () => {
  const store = createMemoryKeyStore();
  // Written behind the cache's back: as if the watch had not brought it yet.
  const quiet: KeyStore = { ...store, watch: () => Promise.resolve(() => {}) };
  const other = cacheOn(quiet);
  await other.loaded();
  await store.put(recordKey("b"), record("b", "team-b"), 0);
  assert.equal(other.size(), 0);
  assert.equal((await other.stored("b"))?.name, "team-b");
  assert.equal(other.size(), 1);
  assert.equal(await other.stored("nope"), undefined);
  other.stop();
  await other.settled;
  await store.close();
});

Deno.test("allStored lists oldest first and remember keeps a fresh write", async () => {
  const store = createMemoryKeyStore();
  await store.put(recordKey("z"), record("z", "second", 2), 0);
  await store.put(recordKey("y"), record("y", "first", 1), 0);
  const cache = cacheOn(store);
  await cache.loaded();
  assert.deepEqual((await cache.allStored()).map((r) => r.id), ["y", "z"]);
  cache.remember(record("z", "renamed", 2));
  assert.equal(cache.latest(record("z", "given")).name, "renamed");
  cache.stop();
  await cache.settled;
  await store.close();
});

Deno.test("a store that cannot be reached: loaded() gives up after its wait, warns once", async () => {
  const logs: string[] = [];
  const down: KeyStore = {
    ...createMemoryKeyStore(),
    list: () => Promise.reject(new StoreUnavailable("down")),
    watch: () => Promise.reject(new StoreUnavailable("down")),
  };
  const cache = cacheOn(down, logs, 30);
  assert.equal(await cache.loaded(), false);
  assert.equal(cache.synced(), false);
  assert.equal(logs.filter((l) => l.includes("store not reachable yet")).length, 1);
  cache.stop();
  await cache.settled;
});

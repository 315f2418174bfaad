import assert from "node:assert/strict";
import { silentLogger } from "../../src/lib/logger.ts";
import { natsCacheStore } from "../../src/plugins/nats_cache_store.ts";
import type { CacheEntry } from "../../src/plugins/cache.ts";
import { startNatsServer } from "../_support/nats_server.ts";

const entry: CacheEntry = {
  response: {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "cached" },
      finish_reason: "stop",
      logprobs: null,
    }],
  },
  provider: "openai",
  model: "gpt-4o-mini",
};

Deno.test("NATS KV store: one replica's answer is another replica's hit", async () => {
  const nats = await startNatsServer();
  const opts = {
    access: { servers: [nats.wsUrl] },
    bucket: "CACHE_TEST",
    ttlMs: 60_000,
    logger: silentLogger,
    timeoutMs: 5_000,
  };
  const a = natsCacheStore(opts);
  const b = natsCacheStore(opts);
  try {
    assert.equal(await b.get("k1", Date.now()), undefined);
    await a.set("k1", entry, Date.now());
    const hit = await b.get("k1", Date.now());
    assert.ok(hit);
    assert.deepEqual(hit.entry, entry);
    assert.ok(hit.ageMs >= 0 && hit.ageMs < 5_000, `age ${hit.ageMs}`);
    // Entries past the TTL are refused even before the server drops them.
    assert.equal(await b.get("k1", Date.now() + 60_000), undefined);
  } finally {
    await a.close();
    await b.close();
    await nats.stop();
  }
});

Deno.test("NATS KV store: an unreachable server fails fast (the cache plugin turns it into a miss)", async () => {
  const store = natsCacheStore({
    access: { servers: ["ws://127.0.0.1:9"] },
    bucket: "CACHE_TEST",
    ttlMs: 60_000,
    logger: silentLogger,
    timeoutMs: 200,
    retryMs: 60_000,
  });
  try {
    const t0 = Date.now();
    await assert.rejects(store.get("k", Date.now()));
    // The next call does not even try to connect again within retryMs.
    await assert.rejects(store.get("k", Date.now()), /retrying later|no answer/);
    assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
  } finally {
    await store.close();
  }
});

import assert from "node:assert/strict";
import {
  cacheKey,
  cachePlugin,
  type CacheStore,
  canonicalJson,
  memoryCacheStore,
} from "../../src/plugins/cache.ts";
import type { PostContext } from "../../src/plugins/plugin.ts";
import type { ChatCompletion } from "../../src/openai/types.ts";
import { attemptCtx, chat, requestCtx } from "../_support/plugin_ctx.ts";

const completion = (text: string): ChatCompletion => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: { role: "assistant", content: text },
    finish_reason: "stop",
    logprobs: null,
  }],
});
const requested = { model: "openai/gpt-4o-mini", fallbacks: [] };

Deno.test("canonicalJson sorts keys at every level and drops undefined", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } }),
    '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
  );
});

Deno.test("cache key: same request same key; key order and stream flags do not matter", async () => {
  const a = await cacheKey(chat({ temperature: 0, max_tokens: 5 }), requested, []);
  const b = await cacheKey(chat({ max_tokens: 5, temperature: 0, stream: false }), requested, []);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(a, b);
});

Deno.test("cache key: messages, params, the fallback chain and vary headers all count", async () => {
  const base = await cacheKey(chat(), requested, [["authorization", "Bearer a"]]);
  const differ = [
    await cacheKey(chat({ messages: [{ role: "user", content: "hello!" }] }), requested, [[
      "authorization",
      "Bearer a",
    ]]),
    await cacheKey(chat({ temperature: 1 }), requested, [["authorization", "Bearer a"]]),
    await cacheKey(chat(), { ...requested, fallbacks: ["anthropic/x"] }, [[
      "authorization",
      "Bearer a",
    ]]),
    await cacheKey(chat(), { ...requested, model: "fast" }, [["authorization", "Bearer a"]]),
    await cacheKey(chat(), requested, [["authorization", "Bearer b"]]),
    await cacheKey(
      { kind: "embeddings", body: { model: "openai/gpt-4o-mini", input: "hello" } },
      requested,
      [["authorization", "Bearer a"]],
    ),
  ];
  for (const k of differ) assert.notEqual(k, base);
  assert.equal(new Set(differ).size, differ.length);
});

Deno.test("memory store: entries expire after the TTL; stored answers are copies", async () => {
  const store = memoryCacheStore(10, 1_000);
  const entry = { response: completion("hi"), provider: "openai", model: "gpt-4o-mini" };
  await store.set("k", entry, 0);
  (entry.response as ChatCompletion).choices[0].message.content = "changed after storing";
  const hit = await store.get("k", 400);
  assert.equal((hit!.entry.response as ChatCompletion).choices[0].message.content, "hi");
  assert.equal(hit!.ageMs, 400);
  assert.equal(await store.get("k", 1_000), undefined);
});

/** begin → (attempt succeeded) → post, as the chain runs them for one request. */
async function run(
  plugin: ReturnType<typeof cachePlugin>,
  headers: Record<string, string> = {},
  answer = "fresh",
) {
  const r = requestCtx(chat(), { headers });
  const begun = await plugin.begin!(r);
  if (!begun) {
    const post: PostContext = {
      ...attemptCtx(r),
      outcome: { type: "success", status: 200, latencyMs: 5, response: completion(answer) },
    };
    await plugin.post!(post);
  }
  return { r, begun };
}

Deno.test("a miss stores the answer; the same request then hits, with header and event", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  const first = await run(plugin);
  assert.equal(first.begun, undefined);
  assert.equal(first.r.responseHeaders["x-gateway-cache"], "miss");
  const second = await run(plugin);
  assert.ok(second.begun && "answer" in second.begun);
  assert.equal(
    (second.begun.answer.response as ChatCompletion).choices[0].message.content,
    "fresh",
  );
  assert.deepEqual([second.begun.answer.provider, second.begun.answer.model], [
    "openai",
    "gpt-4o-mini",
  ]);
  assert.equal(second.r.responseHeaders["x-gateway-cache"], "hit");
  assert.equal(second.r.published.length, 1);
  const e = second.r.published[0];
  assert.equal(e.type, "cache.hit");
  if (e.type === "cache.hit") {
    assert.deepEqual([e.requestId, e.provider, e.model, e.ageMs], [
      "req-1",
      "openai",
      "gpt-4o-mini",
      0,
    ]);
    assert.match(e.key, /^[0-9a-f]{16}$/);
  }
});

Deno.test("callers with different Authorization never share answers (default vary)", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  await run(plugin, { authorization: "Bearer alice" });
  const bob = await run(plugin, { authorization: "Bearer bob" });
  assert.equal(bob.r.responseHeaders["x-gateway-cache"], "miss");
});

Deno.test("cache-control: no-store bypasses the cache; no-cache refreshes it", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  const bypass = await run(plugin, { "cache-control": "no-store" });
  assert.equal(bypass.r.responseHeaders["x-gateway-cache"], "bypass");
  assert.equal((await run(plugin)).r.responseHeaders["x-gateway-cache"], "miss", "nothing stored");
  const refreshed = await run(plugin, { "cache-control": "no-cache" }, "newer");
  assert.equal(refreshed.r.responseHeaders["x-gateway-cache"], "miss");
  const hit = await run(plugin);
  assert.ok(hit.begun && "answer" in hit.begun);
  assert.equal((hit.begun.answer.response as ChatCompletion).choices[0].message.content, "newer");
});

Deno.test("streams are neither looked up nor stored", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  await run(plugin);
  const r = requestCtx(chat(), { stream: true });
  assert.equal(await plugin.begin!(r), undefined);
  assert.deepEqual(r.responseHeaders, {});
});

Deno.test("failures are not stored, and a broken store is a miss, not an error", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  const r = requestCtx(chat());
  await plugin.begin!(r);
  await plugin.post!({
    ...attemptCtx(r),
    outcome: { type: "failure", kind: "transient", status: 503, message: "x", latencyMs: 1 },
  });
  assert.equal((await run(plugin)).r.responseHeaders["x-gateway-cache"], "miss");

  const broken: CacheStore = {
    describe: "broken",
    get: () => Promise.reject(new Error("down")),
    set: () => Promise.reject(new Error("down")),
  };
  const r2 = requestCtx(chat());
  assert.equal(await cachePlugin({ store: broken }).begin!(r2), undefined);
  assert.equal(r2.responseHeaders["x-gateway-cache"], "miss");
});

Deno.test("with virtual keys, the key's id says who asks (a per-request SigV4 header does not)", async () => {
  const plugin = cachePlugin({ store: memoryCacheStore(10, 60_000) });
  const as = async (caller: string, authorization: string) => {
    const r = { ...requestCtx(chat(), { headers: { authorization } }), caller };
    const begun = await plugin.begin!(r);
    if (!begun) {
      await plugin.post!({
        ...attemptCtx(r),
        outcome: { type: "success", status: 200, latencyMs: 1, response: completion("x") },
      });
    }
    return r.responseHeaders["x-gateway-cache"];
  };
  assert.equal(await as("vk-team-a", "AWS4-HMAC-SHA256 Signature=1"), "miss");
  assert.equal(await as("vk-team-a", "AWS4-HMAC-SHA256 Signature=2"), "hit");
  assert.equal(await as("vk-team-b", "AWS4-HMAC-SHA256 Signature=1"), "miss");
});

import assert from "node:assert/strict";
import type { ChatCompletion } from "../../src/openai/types.ts";
import {
  lastUserTurn,
  memorySemanticStore,
  semanticCachePlugin,
  semanticScope,
  storable,
} from "../../src/plugins/semantic_cache.ts";
import type { PostContext, RequestContext } from "../../src/plugins/mod.ts";
import { attemptCtx, chat, requestCtx } from "../_support/plugin_ctx.ts";

const completion = (content: string, finish: "stop" | "length" = "stop"): ChatCompletion => ({
  id: "c1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: { role: "assistant", content },
    finish_reason: finish,
    logprobs: null,
  }],
});

// A toy embedding: a vector per known word, summed (so word order does not matter).
const WORDS: Record<string, number[]> = {
  capital: [1, 0, 0, 0],
  france: [0, 1, 0, 0],
  paris: [0, 1, 0, 0.1],
  weather: [0, 0, 1, 0],
};
const embedded: string[] = [];
const embed = (text: string) => {
  embedded.push(text);
  const v = [0, 0, 0, 0.01];
  for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    (WORDS[w] ?? [0, 0, 0, 0]).forEach((x, i) => v[i] += x);
  }
  return Promise.resolve(v);
};

function setup(threshold = 0.95) {
  const store = memorySemanticStore(100, 60_000);
  const plugin = semanticCachePlugin({ embedding: "openai/emb", threshold, store, embed });
  return { plugin };
}

async function miss(
  plugin: ReturnType<typeof setup>["plugin"],
  ctx: RequestContext,
  answer: ChatCompletion,
) {
  assert.equal(await plugin.begin!(ctx), undefined);
  assert.equal(ctx.responseHeaders["x-gateway-cache"], "miss");
  const post: PostContext = {
    ...attemptCtx(ctx),
    outcome: { type: "success", status: 200, latencyMs: 1, response: answer },
  };
  await plugin.post!(post);
}

const ask = (
  text: string,
  extra: Record<string, unknown> = {},
  o: Parameters<typeof requestCtx>[1] = {},
) => requestCtx(chat({ messages: [{ role: "user", content: text }], ...extra }), o);

Deno.test("lastUserTurn: the last message's text when it is the user's, else nothing to cache", () => {
  assert.deepEqual(
    lastUserTurn([{ role: "system", content: "s" }, { role: "user", content: "q" }]),
    {
      text: "q",
      earlier: [{ role: "system", content: "s" }],
    },
  );
  assert.equal(
    lastUserTurn([{ role: "user", content: "q" }, { role: "assistant", content: "a" }]),
    undefined,
  );
  assert.equal(
    lastUserTurn(
      [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] as never,
    ),
    undefined,
  );
  assert.equal(lastUserTurn([{ role: "user", content: "  " }]), undefined);
});

Deno.test("storable: only answers that finished with stop or tool_calls", () => {
  assert.equal(storable(completion("x")), true);
  assert.equal(storable(completion("x", "length")), false);
  assert.equal(storable({ ...completion("x"), choices: [] }), false);
});

Deno.test("scope: parameters, earlier turns, the chain and the caller each change it; the question does not", async () => {
  const base = chat().body as never as Parameters<typeof semanticScope>[0];
  const req = { model: "openai/gpt-4o-mini", fallbacks: [] as string[] };
  const s = (
    body = base,
    earlier = [] as typeof base.messages,
    r = req,
    who: readonly (readonly [string, string])[] = [["authorization", "A"]],
  ) => semanticScope(body, earlier, r, "openai/emb", who);
  const ref = await s();
  assert.equal(await s({ ...base, messages: [{ role: "user", content: "other question" }] }), ref);
  assert.equal(await s({ ...base, stream: true }), ref);
  assert.notEqual(await s({ ...base, temperature: 0.3 }), ref);
  assert.notEqual(await s({ ...base, tools: [] }), ref);
  assert.notEqual(await s(base, [{ role: "system", content: "be terse" }]), ref);
  assert.notEqual(await s(base, [], { ...req, fallbacks: ["x/y"] }), ref);
  assert.notEqual(await s(base, [], req, [["authorization", "B"]]), ref);
});

Deno.test("a paraphrase hits with its similarity; an unrelated question misses", async () => {
  const { plugin } = setup();
  await miss(plugin, ask("What is the capital of France?"), completion("Paris."));
  const ctx = ask("capital france");
  const v = await plugin.begin!(ctx);
  assert.ok(v && "answer" in v);
  assert.equal((v.answer.response as ChatCompletion).choices[0].message.content, "Paris.");
  assert.equal(v.answer.stream, true);
  assert.equal(ctx.responseHeaders["x-gateway-cache"], "hit");
  const sim = Number(ctx.responseHeaders["x-gateway-cache-similarity"]);
  assert.ok(sim >= 0.95 && sim <= 1, String(sim));
  const hit = ctx.published[0];
  assert.equal(hit.type, "cache.hit");
  assert.equal(hit.type === "cache.hit" && hit.similarity, sim);

  const other = ask("weather today?");
  assert.equal(await plugin.begin!(other), undefined);
  assert.equal(other.responseHeaders["x-gateway-cache"], "miss");
});

Deno.test("no hit across callers or parameters; truncated answers are not stored", async () => {
  const { plugin } = setup();
  await miss(
    plugin,
    ask("capital of France", {}, { headers: { authorization: "Bearer A" } }),
    completion("Paris."),
  );
  assert.equal(
    await plugin.begin!(ask("capital of France", {}, { headers: { authorization: "Bearer B" } })),
    undefined,
  );
  assert.equal(
    await plugin.begin!(
      ask("capital of France", { temperature: 1 }, { headers: { authorization: "Bearer A" } }),
    ),
    undefined,
  );
  assert.ok(
    await plugin.begin!(ask("capital of France", {}, { headers: { authorization: "Bearer A" } })),
  );

  await miss(plugin, ask("weather"), completion("Sunny and", "length"));
  assert.equal(
    await plugin.begin!(ask("weather")),
    undefined,
    "a length-cut answer was not stored",
  );
});

Deno.test("a failing embedding is a miss, never a failed request; no-store bypasses", async () => {
  const plugin = semanticCachePlugin({
    embedding: "openai/emb",
    threshold: 0.9,
    store: memorySemanticStore(10, 1_000),
    embed: () => Promise.reject(new Error("no provider")),
  });
  const ctx = ask("anything");
  assert.equal(await plugin.begin!(ctx), undefined);
  assert.equal(ctx.responseHeaders["x-gateway-cache"], "miss");
  const before = embedded.length;
  const { plugin: p2 } = setup();
  const bypass = ask("anything", {}, { headers: { "cache-control": "no-store" } });
  assert.equal(await p2.begin!(bypass), undefined);
  assert.equal(bypass.responseHeaders["x-gateway-cache"], "bypass");
  assert.equal(embedded.length, before, "no embedding for a bypassed request");
});

Deno.test("a stream's whole answer is stored through the streamed hook, as a JSON one is through post", async () => {
  const { plugin } = setup();
  const ctx = ask("What is the capital of France?", {}, { stream: true });
  assert.equal(await plugin.begin!(ctx), undefined);
  await plugin.streamed!({ ...attemptCtx(ctx), response: completion("Paris, streamed.") });
  const v = await plugin.begin!(ask("capital france"));
  assert.ok(v && "answer" in v);
  assert.equal(
    (v.answer.response as ChatCompletion).choices[0].message.content,
    "Paris, streamed.",
  );
  // A truncated stream is not stored either.
  const cut = ask("weather today?", {}, { stream: true });
  await plugin.begin!(cut);
  await plugin.streamed!({ ...attemptCtx(cut), response: completion("Sunny and", "length") });
  assert.equal(await plugin.begin!(ask("weather today?")), undefined);
});

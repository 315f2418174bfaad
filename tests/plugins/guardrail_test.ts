import assert from "node:assert/strict";
import { guardrailPlugin } from "../../src/plugins/guardrail.ts";
import type { ChatRequest } from "../../src/openai/types.ts";
import { attemptCtx, chat, requestCtx } from "../_support/plugin_ctx.ts";

const rules = [
  { name: "card_number", pattern: /\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b/ },
  { name: "secret_project", pattern: /project\s+nightingale/i },
];

Deno.test("deny: a match stops with 400 naming the rule, never the matched text", async () => {
  const g = guardrailPlugin({ deny: rules });
  const ctx = requestCtx(chat({
    messages: [
      { role: "system", content: "be nice" },
      { role: "user", content: [{ type: "text", text: "my card is 4111 1111 1111 1111" }] },
    ],
  }));
  const v = await g.begin!(ctx);
  assert.deepEqual(v, {
    stop: {
      reason: 'The request was denied by guardrail rule "card_number".',
      status: 400,
      code: "guardrail_denied",
    },
  });
  assert.ok(!JSON.stringify(v).includes("4111"));
});

Deno.test("deny: the first matching rule in order is named; clean text passes", async () => {
  const g = guardrailPlugin({ deny: rules });
  const both = requestCtx(chat({
    messages: [{ role: "user", content: "Project  Nightingale, card 4111-1111-1111-1111" }],
  }));
  const v = await g.begin!(both);
  assert.match(JSON.stringify(v), /card_number/);
  assert.equal(await g.begin!(requestCtx(chat())), undefined);
});

Deno.test("deny: a global regex still matches on every request (no lastIndex carried over)", async () => {
  const g = guardrailPlugin({ deny: [{ name: "x", pattern: /forbidden/g }] });
  const ctx = requestCtx(chat({ messages: [{ role: "user", content: "forbidden" }] }));
  for (let i = 0; i < 3; i++) assert.ok(await g.begin!(ctx), `call ${i}`);
});

Deno.test("deny also looks at embeddings input", async () => {
  const g = guardrailPlugin({ deny: rules });
  const v = await g.begin!(requestCtx({
    kind: "embeddings",
    body: { model: "openai/te3", input: ["fine", "about project nightingale"] },
  }));
  assert.match(JSON.stringify(v), /secret_project/);
});

const clamp = async (body: Partial<ChatRequest>, cap = 256) => {
  const g = guardrailPlugin({ maxTokens: cap });
  const a = attemptCtx(requestCtx(chat(body)));
  await g.pre!(a);
  const b = a.request.body as ChatRequest;
  return [b.max_tokens, b.max_completion_tokens];
};

Deno.test("maxTokens clamp: lowers what is over the cap on the attempt's copy only", async () => {
  assert.deepEqual(await clamp({ max_tokens: 4_000 }), [256, undefined]);
  assert.deepEqual(await clamp({ max_completion_tokens: 9_000 }), [undefined, 256]);
  assert.deepEqual(await clamp({ max_tokens: 100 }), [100, undefined]);
  assert.deepEqual(await clamp({}), [256, undefined], "no limit asked: the cap is set");
  const r = requestCtx(chat({ max_tokens: 4_000 }));
  await guardrailPlugin({ maxTokens: 10 }).pre!(attemptCtx(r));
  assert.equal((r.request.body as ChatRequest).max_tokens, 4_000, "the original is untouched");
});

Deno.test("maxTokens reject: over the cap is a 400 before any attempt; within passes", async () => {
  const g = guardrailPlugin({ maxTokens: 256, onMaxTokens: "reject" });
  assert.deepEqual(await g.begin!(requestCtx(chat({ max_completion_tokens: 1_000 }))), {
    stop: {
      reason: "max_completion_tokens 1000 is over this gateway's limit of 256.",
      status: 400,
      code: "max_tokens_exceeded",
    },
  });
  assert.equal(await g.begin!(requestCtx(chat({ max_tokens: 256 }))), undefined);
  const a = attemptCtx(requestCtx(chat({})));
  await g.pre!(a);
  assert.equal((a.request.body as ChatRequest).max_tokens, undefined, "reject mode never clamps");
});

import assert from "node:assert/strict";
import { providerTypeInfo } from "../../src/providers/provider_types.ts";
import { unsupportedParams, unsupportedReason } from "../../src/providers/unsupported.ts";
import type { ChatRequest } from "../../src/openai/types.ts";

const plain: ChatRequest = { model: "p/m", messages: [{ role: "user", content: "Hi" }] };
const groq = providerTypeInfo("groq");

Deno.test("a plain request suits every catalogued type", () => {
  for (const type of ["openai", "groq", "mistral", "cerebras", "perplexity", "cohere"]) {
    assert.deepEqual(unsupportedParams(plain, providerTypeInfo(type)), [], type);
  }
  assert.deepEqual(unsupportedParams(plain, undefined), []);
});

Deno.test("fields a vendor rejects are named, in the catalogue's order", () => {
  const request: ChatRequest = {
    ...plain,
    logit_bias: { "50256": -100 },
    n: 3,
    top_logprobs: 2,
    logprobs: true,
    temperature: 0.1,
  };
  assert.deepEqual(unsupportedParams(request, groq), [
    "n",
    "logprobs",
    "top_logprobs",
    "logit_bias",
  ]);
  // OpenAI itself takes all of them; Cohere's native format cannot say n or logit_bias.
  assert.deepEqual(unsupportedParams(request, providerTypeInfo("openai")), []);
  assert.deepEqual(unsupportedParams(request, providerTypeInfo("cohere")), ["n", "logit_bias"]);
});

Deno.test("values that ask for nothing do not count: n 1, false, null, empty lists and maps", () => {
  const request: ChatRequest = {
    ...plain,
    n: 1,
    logprobs: false,
    top_logprobs: null,
    logit_bias: {},
    tools: [],
  };
  assert.deepEqual(unsupportedParams(request, groq), []);
  assert.deepEqual(unsupportedParams(request, providerTypeInfo("perplexity")), []);
  // …but a seed of 0 is a seed.
  assert.deepEqual(unsupportedParams({ ...plain, seed: 0 }, providerTypeInfo("mistral")), ["seed"]);
});

Deno.test("a per-message field counts when any message sets it", () => {
  const named: ChatRequest = {
    model: "p/m",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi", name: "alice" },
    ],
  };
  assert.deepEqual(unsupportedParams(named, groq), ["messages[].name"]);
  assert.deepEqual(unsupportedParams(named, providerTypeInfo("mistral")), ["messages[].name"]);
  const emptyName = { ...named, messages: [{ role: "user" as const, content: "Hi", name: "" }] };
  assert.deepEqual(unsupportedParams(emptyName, groq), []);
});

Deno.test("the check reads only the data it is given", () => {
  const custom = { unsupported: ["stream_options", "user", "user"] };
  const request: ChatRequest = { ...plain, user: "u1", stream_options: { include_usage: true } };
  assert.deepEqual(unsupportedParams(request, custom), ["stream_options", "user"]);
  assert.deepEqual(unsupportedParams(request, { unsupported: [] }), []);
});

Deno.test("tools are refused where the vendor has none", () => {
  const withTools: ChatRequest = {
    ...plain,
    tools: [{ type: "function", function: { name: "f" } }],
    tool_choice: "auto",
  };
  assert.deepEqual(unsupportedParams(withTools, providerTypeInfo("perplexity")), [
    "tools",
    "tool_choice",
  ]);
  assert.deepEqual(unsupportedParams(withTools, groq), []);
});

Deno.test("the skip reason names the provider and what it does not accept", () => {
  assert.equal(
    unsupportedReason("fast-groq", ["n", "logit_bias"]),
    "fast-groq does not accept n > 1, logit_bias",
  );
});

Deno.test("unsupportedParams: a type serving several vendors rejects n > 1 only for the models that cannot (Claude on Vertex)", () => {
  const twoChoices: ChatRequest = { ...plain, n: 2 };
  const vertex = providerTypeInfo("vertex");
  assert.deepEqual(unsupportedParams(twoChoices, vertex, "claude-3-5-haiku@20241022"), ["n"]);
  assert.deepEqual(unsupportedParams(twoChoices, vertex, "Claude-Sonnet-4"), ["n"]);
  assert.deepEqual(unsupportedParams(twoChoices, vertex, "gemini-2.0-flash"), []);
  assert.deepEqual(unsupportedParams(twoChoices, vertex), []);
  assert.deepEqual(unsupportedParams({ ...twoChoices, n: 1 }, vertex, "claude-3-5-haiku"), []);
});

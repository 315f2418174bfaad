import assert from "node:assert/strict";
import {
  PROVIDER_CATALOGUE,
  PROVIDER_TYPES,
  type ProviderTypeInfo,
  providerTypeInfo,
  servesResponsesApi,
} from "../../src/providers/provider_types.ts";
import { adapterFor } from "../../src/providers/mod.ts";

const entries = Object.entries(PROVIDER_CATALOGUE as Record<string, ProviderTypeInfo>);

/** OpenAI chat fields an `unsupported` list may name (a typo there would silently never match). */
const OPENAI_FIELDS = new Set([
  "n",
  "seed",
  "user",
  "logprobs",
  "top_logprobs",
  "logit_bias",
  "frequency_penalty",
  "presence_penalty",
  "parallel_tool_calls",
  "service_tier",
  "tools",
  "tool_choice",
  "response_format",
  "stream_options",
  "stop",
  "store",
  "metadata",
  "prediction",
  "modalities",
  "audio",
  "reasoning_effort",
  "messages[].name",
]);

Deno.test("the catalogue offers at least 20 provider types, all listed in PROVIDER_TYPES", () => {
  assert.ok(entries.length >= 20, `only ${entries.length} types`);
  assert.deepEqual([...PROVIDER_TYPES].sort(), entries.map(([id]) => id).sort());
});

Deno.test("every type names a registered adapter family and a usable id", () => {
  for (const [id, info] of entries) {
    assert.match(id, /^[a-z0-9_-]+$/, id);
    assert.ok(adapterFor(info.family), `${id}: family "${info.family}" has no adapter`);
    assert.ok(info.notes.trim().length > 10, `${id}: notes say what it supports`);
    assert.equal(providerTypeInfo(id), info);
  }
});

Deno.test("default base URLs are absolute http(s) URLs without a trailing slash", () => {
  for (const [id, info] of entries) {
    if (info.baseUrl === undefined) continue;
    const url = new URL(info.baseUrl);
    assert.ok(url.protocol === "https:" || url.protocol === "http:", id);
    assert.ok(!info.baseUrl.endsWith("/"), `${id}: the adapter appends /chat/completions`);
    // Plain http only for servers on this machine.
    if (url.protocol === "http:") assert.equal(url.hostname, "localhost", id);
  }
});

Deno.test("env keys are upper-case variable names, one type each", () => {
  const seen = new Map<string, string>();
  for (const [id, info] of entries) {
    for (const v of [info.envKey, info.envBaseUrl]) {
      if (v === undefined) continue;
      assert.match(v, /^[A-Z][A-Z0-9_]*$/, id);
      assert.ok(!seen.has(v), `${id} and ${seen.get(v)} both claim ${v}`);
      seen.set(v, id);
    }
    // An endpoint variable only makes sense where there is no default URL.
    if (info.envBaseUrl) assert.equal(info.baseUrl, undefined, id);
  }
});

Deno.test("local servers need neither a key nor an env var", () => {
  for (
    const [id, url] of [
      ["ollama", "http://localhost:11434/v1"],
      ["vllm", "http://localhost:8000/v1"],
      ["lmstudio", "http://localhost:1234/v1"],
    ]
  ) {
    const info = providerTypeInfo(id)!;
    assert.equal(info.family, "openai", id);
    assert.equal(info.baseUrl, url, id);
    assert.equal(info.envKey, undefined, id);
  }
});

Deno.test("hosted OpenAI-compatible vendors start from their own API key variable", () => {
  const rows: [string, string][] = [
    ["groq", "GROQ_API_KEY"],
    ["mistral", "MISTRAL_API_KEY"],
    ["deepseek", "DEEPSEEK_API_KEY"],
    ["xai", "XAI_API_KEY"],
    ["together", "TOGETHER_API_KEY"],
    ["fireworks", "FIREWORKS_API_KEY"],
    ["openrouter", "OPENROUTER_API_KEY"],
    ["cerebras", "CEREBRAS_API_KEY"],
    ["perplexity", "PERPLEXITY_API_KEY"],
  ];
  for (const [id, env] of rows) {
    const info = providerTypeInfo(id);
    assert.equal(info?.family, "openai", id);
    assert.equal(info?.envKey, env, id);
    assert.ok(info?.baseUrl?.startsWith("https://"), id);
  }
});

Deno.test("azure needs a base URL from config or AZURE_OPENAI_ENDPOINT; cohere has a default", () => {
  const azure = providerTypeInfo("azure")!;
  assert.equal(azure.family, "azure");
  assert.equal(azure.baseUrl, undefined);
  assert.equal(azure.envKey, "AZURE_OPENAI_API_KEY");
  assert.equal(azure.envBaseUrl, "AZURE_OPENAI_ENDPOINT");
  const cohere = providerTypeInfo("cohere")!;
  assert.equal(cohere.family, "cohere");
  assert.equal(cohere.baseUrl, "https://api.cohere.com/v2");
  assert.equal(cohere.envKey, "CO_API_KEY");
});

Deno.test("unsupported lists name real OpenAI fields, once each", () => {
  for (const [id, info] of entries) {
    const list = info.unsupported ?? [];
    assert.equal(new Set(list).size, list.length, `${id}: duplicates`);
    for (const f of list) assert.ok(OPENAI_FIELDS.has(f), `${id}: unknown field "${f}"`);
  }
  assert.ok(providerTypeInfo("groq")?.unsupported?.includes("n"));
  assert.ok(providerTypeInfo("perplexity")?.unsupported?.includes("tools"));
});

Deno.test("providerTypeInfo knows nothing else, not even Object.prototype names", () => {
  for (const name of ["", "Groq", "constructor", "toString", "__proto__"]) {
    assert.equal(providerTypeInfo(name), undefined, name);
  }
});

Deno.test("types whose answer is one message cannot honour n > 1; Gemini (candidateCount) can", () => {
  for (const type of ["anthropic", "bedrock", "cohere"]) {
    assert.ok(providerTypeInfo(type)?.unsupported?.includes("n"), type);
  }
  assert.equal(providerTypeInfo("gemini")?.unsupported?.includes("n") ?? false, false);
});

Deno.test("servesResponsesApi: openai at its own URL, azure, or as config says", () => {
  const openai = "https://api.openai.com/v1";
  assert.equal(servesResponsesApi({ type: "openai", baseUrl: openai }), true);
  // Any other server behind type openai may not serve /responses: translated unless told.
  assert.equal(servesResponsesApi({ type: "openai", baseUrl: "http://localhost:8000/v1" }), false);
  assert.equal(
    servesResponsesApi({ type: "openai", baseUrl: "http://vllm:8000/v1", responsesApi: true }),
    true,
  );
  assert.equal(servesResponsesApi({ type: "azure", baseUrl: "https://r.openai.azure.com" }), true);
  assert.equal(
    servesResponsesApi({
      type: "azure",
      baseUrl: "https://r.openai.azure.com",
      responsesApi: false,
    }),
    false,
  );
  for (const type of ["groq", "anthropic", "gemini", "openrouter", "bedrock"]) {
    assert.equal(servesResponsesApi({ type, baseUrl: "https://x" }), false, type);
  }
});

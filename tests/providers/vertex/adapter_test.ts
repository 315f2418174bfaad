import assert from "node:assert/strict";
import type { ChatChunk, ChatRequest } from "../../../src/openai/types.ts";
import {
  type AdapterContext,
  classifyHttpFailure,
  parseSse,
  UpstreamStreamError,
} from "../../../src/providers/mod.ts";
import { VERTEX_ANTHROPIC_VERSION, vertexAdapter } from "../../../src/providers/vertex/adapter.ts";

const BASE = "https://europe-west1-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west1";
const ctx = (over: Partial<AdapterContext> = {}): AdapterContext => ({
  baseUrl: BASE,
  apiKey: "",
  model: "gemini-2.5-pro",
  stream: false,
  nowSec: 1_700_000_000,
  id: "chatcmpl-v",
  now: 1_700_000_000_000,
  settings: { accessToken: () => Promise.resolve("ya29.token") },
  ...over,
});
const request: ChatRequest = {
  model: "vx/m",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
  ],
  max_tokens: 32,
};
const bodyOf = (b: string | Uint8Array) =>
  JSON.parse(typeof b === "string" ? b : new TextDecoder().decode(b));

async function decode(c: AdapterContext, text: string): Promise<ChatChunk[]> {
  const d = vertexAdapter.createStreamDecoder(c);
  const out: ChatChunk[] = [];
  for await (const e of parseSse(new Response(text).body!)) out.push(...d.push(e));
  assert.ok(d.finished);
  return out;
}
const textOf = (chunks: ChatChunk[]) =>
  chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");

Deno.test("gemini models: streamGenerateContent?alt=sse with the bearer token", async () => {
  const up = await vertexAdapter.buildChatRequest(request, ctx({ stream: true }));
  assert.equal(
    up.url,
    `${BASE}/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse`,
  );
  assert.equal(up.headers.authorization, "Bearer ya29.token");
  assert.equal(up.headers.accept, "text/event-stream");
  const b = bodyOf(up.body);
  assert.deepEqual(b.contents, [{ role: "user", parts: [{ text: "Hi" }] }]);
  assert.equal(b.generationConfig.maxOutputTokens, 32);
  assert.equal(b.model, undefined);
});

Deno.test("claude models: rawPredict, Messages body without model, vertex anthropic_version", async () => {
  const c = ctx({ model: "claude-sonnet-4-5@20250929" });
  const up = await vertexAdapter.buildChatRequest(request, c);
  assert.equal(
    up.url,
    `${BASE}/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`,
  );
  assert.equal(up.headers.authorization, "Bearer ya29.token");
  assert.equal(up.headers["x-api-key"], undefined);
  assert.equal(up.headers["anthropic-version"], undefined, "the version goes in the body");
  const b = bodyOf(up.body);
  assert.equal(b.anthropic_version, VERTEX_ANTHROPIC_VERSION);
  assert.equal(VERTEX_ANTHROPIC_VERSION, "vertex-2023-10-16");
  assert.equal(b.model, undefined, "the model is in the URL");
  assert.equal(b.system, "Be brief.");
  assert.deepEqual(b.messages, [{ role: "user", content: [{ type: "text", text: "Hi" }] }]);
  assert.equal(b.max_tokens, 32);
  assert.equal(b.stream, undefined);

  const s = await vertexAdapter.buildChatRequest(request, { ...c, stream: true });
  assert.match(s.url, /claude-sonnet-4-5@20250929:streamRawPredict$/);
  assert.equal(bodyOf(s.body).stream, true);
});

Deno.test("the key from `keys` serves as the access token when there is no service account", async () => {
  const up = await vertexAdapter.buildChatRequest(
    request,
    ctx({ settings: {}, apiKey: "ya29.from-gcloud" }),
  );
  assert.equal(up.headers.authorization, "Bearer ya29.from-gcloud");
});

Deno.test("no credentials at all, or a token source that fails: an auth failure to classify", async () => {
  await assert.rejects(
    Promise.resolve(vertexAdapter.buildChatRequest(request, ctx({ settings: {} }))),
    (e: Error) =>
      e instanceof UpstreamStreamError && e.status === 401 && /credentials/.test(e.message),
  );
  const refused = new UpstreamStreamError({ message: "refused" }, 401);
  await assert.rejects(
    Promise.resolve(
      vertexAdapter.buildChatRequest(
        request,
        ctx({ settings: { accessToken: () => Promise.reject(refused) } }),
      ),
    ),
    (e) => e === refused,
  );
});

Deno.test("answers: a Gemini answer and a Claude message each map to a completion", () => {
  const g = vertexAdapter.parseChatResponse({
    candidates: [{ content: { role: "model", parts: [{ text: "Hello" }] }, finishReason: "STOP" }],
    usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1, totalTokenCount: 6 },
    modelVersion: "gemini-2.5-pro",
  }, ctx());
  assert.equal(g.choices[0].message.content, "Hello");
  assert.equal(g.usage?.total_tokens, 6);

  const a = vertexAdapter.parseChatResponse({
    id: "msg_vrtx_01",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "Hi there" }],
    stop_reason: "max_tokens",
    usage: { input_tokens: 7, output_tokens: 2 },
  }, ctx({ model: "claude-sonnet-4-5@20250929" }));
  assert.equal(a.id, "msg_vrtx_01");
  assert.equal(a.choices[0].message.content, "Hi there");
  assert.equal(a.choices[0].finish_reason, "length");
  assert.equal(a.usage?.prompt_tokens, 7);
});

Deno.test("streams: Gemini SSE and Claude's streamRawPredict events both decode", async () => {
  const gem = await decode(
    ctx({ stream: true }),
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: "Hel" }] } }] })}\r\n\r\n` +
      `data: ${
        JSON.stringify({
          candidates: [{ content: { parts: [{ text: "lo" }] }, finishReason: "STOP" }],
          usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, totalTokenCount: 5 },
        })
      }\r\n\r\n`,
  );
  assert.equal(textOf(gem), "Hello");
  assert.equal(gem.at(-1)?.usage?.total_tokens, 5);

  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const claude = await decode(
    ctx({ stream: true, model: "claude-3-5-haiku@20241022" }),
    ev("message_start", {
      type: "message_start",
      message: { id: "msg_vrtx_2", model: "claude-3-5-haiku-20241022", usage: { input_tokens: 4 } },
    }) +
      ev("content_block_start", {
        type: "content_block_start",
        index: 0,
        content_block: { type: "text", text: "" },
      }) +
      ev("content_block_delta", {
        type: "content_block_delta",
        index: 0,
        delta: { type: "text_delta", text: "Hey" },
      }) +
      ev("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn" },
        usage: { output_tokens: 1 },
      }) +
      ev("message_stop", { type: "message_stop" }),
  );
  assert.equal(textOf(claude), "Hey");
  assert.ok(claude.some((c) => c.choices[0]?.finish_reason === "stop"));
});

Deno.test("errors: Google's shape and a Claude model's Anthropic shape are both read", () => {
  const g = vertexAdapter.parseError(
    429,
    JSON.stringify({
      error: { code: 429, message: "Resource exhausted.", status: "RESOURCE_EXHAUSTED" },
    }),
  );
  assert.equal(g.type, "RESOURCE_EXHAUSTED");
  assert.equal(
    classifyHttpFailure({ status: 429, headers: new Headers(), error: g, now: 0 }).kind,
    "rate_limit",
  );
  const a = vertexAdapter.parseError(
    400,
    JSON.stringify({
      type: "error",
      error: { type: "invalid_request_error", message: "prompt is too long: 300000 tokens" },
    }),
  );
  assert.equal(a.type, "invalid_request_error");
  assert.equal(
    classifyHttpFailure({ status: 400, headers: new Headers(), error: a, now: 0 }).kind,
    "capability",
  );
  assert.match(
    vertexAdapter.parseError(502, "<html>Bad Gateway</html>").message,
    /Bad Gateway|502/,
  );
});

Deno.test("embeddings: predict with instances[].content; predictions[].embeddings.values back", async () => {
  const c = ctx({ model: "text-embedding-005" });
  const up = await vertexAdapter.buildEmbeddingsRequest!(
    { model: "vx/text-embedding-005", input: ["a", "b"], dimensions: 256 },
    c,
  );
  assert.equal(up.url, `${BASE}/publishers/google/models/text-embedding-005:predict`);
  assert.equal(up.headers.authorization, "Bearer ya29.token");
  assert.deepEqual(bodyOf(up.body), {
    instances: [{ content: "a" }, { content: "b" }],
    parameters: { outputDimensionality: 256 },
  });
  const r = vertexAdapter.parseEmbeddingsResponse!({
    predictions: [
      { embeddings: { values: [0.1, 0.2], statistics: { token_count: 1, truncated: false } } },
      { embeddings: { values: [0.3, 0.4], statistics: { token_count: 2, truncated: false } } },
    ],
  }, c);
  assert.deepEqual(r.data.map((d) => d.embedding), [[0.1, 0.2], [0.3, 0.4]]);
  assert.deepEqual(r.usage, { prompt_tokens: 3, total_tokens: 3 });
  assert.throws(() => vertexAdapter.parseEmbeddingsResponse!({ predictions: [{}] }, c), /values/);
});

// OpenAI-family embeddings: POST {baseUrl}/embeddings, answered with OpenAI's list of embeddings.
import assert from "node:assert/strict";
import { openaiAdapter, UpstreamStreamError } from "../../../src/providers/mod.ts";
import type { EmbeddingsRequest } from "../../../src/openai/types.ts";
import { ctx } from "../fixtures/load.ts";

const request: EmbeddingsRequest = {
  model: "openai/text-embedding-3-small",
  fallbacks: ["mistral/mistral-embed"],
  input: ["The food was delicious", "and the waiter..."],
  encoding_format: "float",
  dimensions: 512,
  user: "user-1234",
};

Deno.test("embeddings post to /embeddings with the upstream model and without fallbacks", async () => {
  const up = await openaiAdapter.buildEmbeddingsRequest!(request, {
    ...ctx,
    model: "text-embedding-3-small",
  });
  assert.equal(up.url, "https://upstream.test/v1/embeddings");
  assert.equal(up.method, "POST");
  assert.equal(up.headers.authorization, "Bearer sk-test");
  assert.equal(up.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(up.body as string), {
    model: "text-embedding-3-small",
    input: ["The food was delicious", "and the waiter..."],
    encoding_format: "float",
    dimensions: 512,
    user: "user-1234",
  });
});

Deno.test("a keyless server (a local Ollama or vLLM) gets no authorization header", async () => {
  const up = await openaiAdapter.buildEmbeddingsRequest!(
    { model: "ollama/nomic-embed-text", input: "hi" },
    { ...ctx, baseUrl: "http://localhost:11434/v1", apiKey: "", model: "nomic-embed-text" },
  );
  assert.equal(up.url, "http://localhost:11434/v1/embeddings");
  assert.equal("authorization" in up.headers, false);
  assert.deepEqual(JSON.parse(up.body as string), { model: "nomic-embed-text", input: "hi" });
});

Deno.test("an OpenAI embeddings list passes through", () => {
  const res = openaiAdapter.parseEmbeddingsResponse!({
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.0023064255, -0.009327292] },
      { object: "embedding", index: 1, embedding: "AAAAPwAAAL8=" },
    ],
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 8, total_tokens: 8 },
  }, ctx);
  assert.deepEqual(res, {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.0023064255, -0.009327292] },
      { object: "embedding", index: 1, embedding: "AAAAPwAAAL8=" },
    ],
    model: "text-embedding-3-small",
    usage: { prompt_tokens: 8, total_tokens: 8 },
  });
});

Deno.test("gaps some compatible servers leave are filled: index, model, usage", () => {
  const res = openaiAdapter.parseEmbeddingsResponse!({
    data: [{ embedding: [1, 2] }, { embedding: [3, 4] }],
    usage: { prompt_tokens: 3 },
  }, ctx);
  assert.deepEqual(res.data.map((d) => d.index), [0, 1]);
  assert.equal(res.model, "upstream-model");
  assert.deepEqual(res.usage, { prompt_tokens: 3, total_tokens: 3 });
  assert.deepEqual(openaiAdapter.parseEmbeddingsResponse!({ data: [] }, ctx).usage, {
    prompt_tokens: 0,
    total_tokens: 0,
  });
});

Deno.test("bodies that are not embeddings are refused; a 200 error body is the upstream's error", () => {
  for (const body of [null, [], { object: "list" }, { data: {} }]) {
    assert.throws(
      () => openaiAdapter.parseEmbeddingsResponse!(body, ctx),
      /not an embeddings list/,
    );
  }
  assert.throws(
    () => openaiAdapter.parseEmbeddingsResponse!({ data: [{ index: 0 }] }, ctx),
    /item 0 has no embedding/,
  );
  assert.throws(
    () =>
      openaiAdapter.parseEmbeddingsResponse!({ error: { message: "overloaded", code: 503 } }, ctx),
    (e) => e instanceof UpstreamStreamError && e.status === 503 && e.message === "overloaded",
  );
});

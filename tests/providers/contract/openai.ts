// OpenAI Chat Completions fixtures for the shared adapter contract.
import assert from "node:assert/strict";
import { type ContractCase, contractRequest } from "./harness.ts";

const chunk = (delta: unknown, finish: string | null = null) =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "gpt-4o-mini",
      choices: [{ index: 0, delta, finish_reason: finish }],
    })
  }\n\n`;

export const contract: ContractCase = {
  family: "openai",
  ctx: {},
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(up.url, "https://upstream.test/v1/chat/completions");
    assert.equal(up.headers.authorization, "Bearer sk-contract");
    const b = body as { model: string; messages: unknown[]; max_tokens: number };
    assert.equal(b.model, "contract-model");
    assert.equal(b.messages.length, 2);
    assert.equal(b.max_tokens, 64);
  },
  response: {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello!" },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage: {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 4 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } },
  },
  stream: chunk({ role: "assistant", content: "" }) + chunk({ content: "Hel" }) +
    chunk({ content: "lo!" }) +
    chunk({}, "stop") +
    `data: ${
      JSON.stringify({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1,
        model: "gpt-4o-mini",
        choices: [],
        usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
      })
    }\n\ndata: [DONE]\n\n`,
  expectStream: { content: "Hello!", finishReason: "stop", usage: { total_tokens: 15 } },
  errors: [
    {
      status: 429,
      headers: { "retry-after": "2" },
      body: JSON.stringify({
        error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" },
      }),
      kind: "rate_limit",
    },
    {
      status: 429,
      body: JSON.stringify({
        error: {
          message: "You exceeded your current quota",
          type: "insufficient_quota",
          code: "insufficient_quota",
        },
      }),
      kind: "quota",
    },
    {
      status: 400,
      body: JSON.stringify({
        error: {
          message: "maximum context length is 128000 tokens",
          type: "invalid_request_error",
          code: "context_length_exceeded",
        },
      }),
      kind: "capability",
    },
    {
      status: 404,
      body: JSON.stringify({
        error: {
          message: "The model `gpt-9` does not exist",
          type: "invalid_request_error",
          code: "model_not_found",
        },
      }),
      kind: "model_unavailable",
    },
    {
      status: 401,
      body: JSON.stringify({ error: { message: "Incorrect API key provided" } }),
      kind: "auth",
    },
    { status: 503, body: "upstream connect error", kind: "transient" },
  ],
};

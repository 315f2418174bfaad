// Anthropic Messages API fixtures for the shared adapter contract.
import assert from "node:assert/strict";
import { type ContractCase, contractRequest } from "./harness.ts";

const ev = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const contract: ContractCase = {
  family: "anthropic",
  ctx: { baseUrl: "https://api.anthropic.com/v1" },
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(up.url, "https://api.anthropic.com/v1/messages");
    assert.equal(up.headers["x-api-key"], "sk-contract");
    assert.equal(up.headers["anthropic-version"], "2023-06-01");
    const b = body as {
      system: unknown;
      messages: { role: string }[];
      max_tokens: number;
      model: string;
    };
    assert.equal(b.model, "contract-model");
    assert.equal(b.max_tokens, 64);
    assert.deepEqual(b.messages.map((m) => m.role), ["user"]);
    assert.match(JSON.stringify(b.system), /Be brief\./);
  },
  response: {
    id: "msg_01",
    type: "message",
    role: "assistant",
    model: "claude-3-5-haiku-20241022",
    content: [{ type: "text", text: "Hello!" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: 10,
      output_tokens: 3,
      cache_read_input_tokens: 2,
      cache_creation_input_tokens: 0,
    },
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: {
      prompt_tokens: 12,
      completion_tokens: 3,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 2 },
    },
  },
  stream: ev("message_start", {
    type: "message_start",
    message: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-3-5-haiku-20241022",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 10, output_tokens: 1 },
    },
  }) +
    ev("content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }) +
    ev("ping", { type: "ping" }) +
    ev("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Hel" },
    }) +
    ev("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "lo!" },
    }) +
    ev("content_block_stop", { type: "content_block_stop", index: 0 }) +
    ev("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "max_tokens", stop_sequence: null },
      usage: { output_tokens: 3 },
    }) +
    ev("message_stop", { type: "message_stop" }),
  expectStream: {
    content: "Hello!",
    finishReason: "length",
    usage: { prompt_tokens: 10, completion_tokens: 3 },
  },
  errors: [
    {
      status: 529,
      body: JSON.stringify({
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded" },
      }),
      kind: "transient",
    },
    {
      status: 429,
      headers: { "retry-after": "5" },
      body: JSON.stringify({
        type: "error",
        error: {
          type: "rate_limit_error",
          message: "Number of requests has exceeded your rate limit",
        },
      }),
      kind: "rate_limit",
    },
    {
      status: 400,
      body: JSON.stringify({
        type: "error",
        error: {
          type: "invalid_request_error",
          message: "prompt is too long: 200001 tokens > 200000 maximum",
        },
      }),
      kind: "capability",
    },
    {
      status: 404,
      body: JSON.stringify({
        type: "error",
        error: { type: "not_found_error", message: "model: claude-9" },
      }),
      kind: "model_unavailable",
    },
    {
      status: 401,
      body: JSON.stringify({
        type: "error",
        error: { type: "authentication_error", message: "invalid x-api-key" },
      }),
      kind: "auth",
    },
  ],
};

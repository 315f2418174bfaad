// Cohere v2 Chat fixtures for the shared adapter contract, in the shapes of Cohere's v2 API
// reference and the cohere-ai SDK's schemas (V2ChatResponse, V2ChatStreamResponse events) and
// its errors page (`{"message": "..."}` with the status saying what kind).
import assert from "node:assert/strict";
import { type ContractCase, contractRequest } from "./harness.ts";

const ev = (type: string, rest: Record<string, unknown> = {}) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...rest })}\n\n`;

export const contract: ContractCase = {
  family: "cohere",
  ctx: { baseUrl: "https://api.cohere.com/v2" },
  request: contractRequest,
  expectRequest(up, body) {
    assert.equal(up.url, "https://api.cohere.com/v2/chat");
    assert.equal(up.headers.authorization, "Bearer sk-contract");
    const b = body as {
      model: string;
      messages: { role: string; content: unknown }[];
      max_tokens: number;
      temperature: number;
    };
    assert.equal(b.model, "contract-model");
    assert.deepEqual(b.messages.map((m) => m.role), ["system", "user"]);
    assert.equal(b.messages[0].content, "Be brief.");
    assert.equal(b.max_tokens, 64);
    assert.equal(b.temperature, 0.5);
  },
  response: {
    id: "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
    finish_reason: "COMPLETE",
    message: { role: "assistant", content: [{ type: "text", text: "Hello!" }] },
    usage: {
      billed_units: { input_tokens: 5, output_tokens: 3 },
      tokens: { input_tokens: 71, output_tokens: 3 },
    },
  },
  expectResponse: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 71, completion_tokens: 3, total_tokens: 74 },
  },
  stream: ev("message-start", {
    id: "29f14a5a-11de-4cae-9800-25e4747408ea",
    delta: { message: { role: "assistant", content: [], tool_plan: "", tool_calls: [] } },
  }) +
    ev("content-start", {
      index: 0,
      delta: { message: { content: { type: "text", text: "" } } },
    }) +
    ev("content-delta", { index: 0, delta: { message: { content: { text: "Hel" } } } }) +
    ev("content-delta", { index: 0, delta: { message: { content: { text: "lo!" } } } }) +
    ev("content-end", { index: 0 }) +
    ev("message-end", {
      delta: {
        finish_reason: "COMPLETE",
        usage: {
          billed_units: { input_tokens: 5, output_tokens: 3 },
          tokens: { input_tokens: 71, output_tokens: 3 },
        },
      },
    }),
  expectStream: {
    content: "Hello!",
    finishReason: "stop",
    usage: { prompt_tokens: 71, completion_tokens: 3, total_tokens: 74 },
  },
  errors: [
    {
      status: 429,
      headers: { "retry-after": "60" },
      body: JSON.stringify({
        message:
          "You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'. Contact us on 'https://discord.gg/XW44jPfYJu' or email us at support@cohere.com with any questions",
      }),
      kind: "rate_limit",
    },
    {
      status: 400,
      body: JSON.stringify({
        message:
          "too many tokens: total number of tokens in the prompt cannot exceed 4081 - received 4292. Try using a shorter prompt, or enabling prompt truncating.",
      }),
      kind: "capability",
    },
    {
      status: 400,
      body: JSON.stringify({ message: "invalid request: message must not be empty in a turn" }),
      kind: "caller_fault",
    },
    { status: 401, body: JSON.stringify({ message: "invalid api token" }), kind: "auth" },
    { status: 498, body: JSON.stringify({ message: "invalid api token" }), kind: "auth" },
    {
      status: 402,
      body: JSON.stringify({ message: "Please add or update your payment method." }),
      kind: "quota",
    },
    {
      status: 404,
      body: JSON.stringify({
        message:
          "model 'command-x' not found, make sure the correct model ID was used and that you have access to the model.",
      }),
      kind: "model_unavailable",
    },
    { status: 500, body: JSON.stringify({ message: "internal server error" }), kind: "transient" },
  ],
};

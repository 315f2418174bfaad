import assert from "node:assert/strict";
import { cohereAdapter } from "../../../src/providers/cohere/adapter.ts";
import {
  adapterFor,
  classifyHttpFailure,
  classifyStreamError,
  UpstreamStreamError,
} from "../../../src/providers/mod.ts";
import type { AdapterContext } from "../../../src/providers/mod.ts";
import type { ChatRequest } from "../../../src/openai/types.ts";
import { build, ctx as baseCtx, decodeTranscript } from "../fixtures/load.ts";

const ctx: AdapterContext = {
  ...baseCtx,
  baseUrl: "https://api.cohere.com/v2",
  model: "command-a-03-2025",
  stream: false,
};

const ev = (type: string, rest: Record<string, unknown> = {}) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...rest })}\n\n`;

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};
const time = { type: "function" as const, function: { name: "get_time" } };

Deno.test("cohere is registered as its own family", () => {
  assert.equal(adapterFor("cohere"), cohereAdapter);
});

Deno.test("a conversation with tools maps to Cohere v2 chat", () => {
  const request: ChatRequest = {
    model: "cohere/command-a-03-2025",
    fallbacks: ["openai/gpt-4o"],
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Use metric units." }] },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather here?" },
          { type: "image_url", image_url: { url: "https://example.com/sky.png", detail: "low" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":3}' },
    ],
    tools: [weather, time],
    max_tokens: 100,
    max_completion_tokens: 50,
    temperature: 0.2,
    top_p: 0.9,
    stop: "END",
    seed: 7,
    frequency_penalty: 0.1,
    response_format: { type: "json_object" },
    n: 1,
    logit_bias: { "1": 5 },
    user: "u-1",
  };
  const up = build(cohereAdapter, request, ctx);
  assert.equal(up.url, "https://api.cohere.com/v2/chat");
  assert.equal(up.headers.authorization, "Bearer sk-test");
  assert.equal(up.headers.accept, "application/json");
  assert.deepEqual(JSON.parse(up.body), {
    model: "command-a-03-2025",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "system", content: "Use metric units." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather here?" },
          {
            type: "image_url",
            image_url: { url: "https://example.com/sky.png", detail: "low" },
          },
        ],
      },
      {
        role: "assistant",
        tool_calls: [{
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temp":3}' },
    ],
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather for a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
      {
        type: "function",
        function: { name: "get_time", parameters: { type: "object", properties: {} } },
      },
    ],
    max_tokens: 50,
    temperature: 0.2,
    p: 0.9,
    stop_sequences: ["END"],
    seed: 7,
    frequency_penalty: 0.1,
    response_format: { type: "json_object" },
  });
});

Deno.test("tool_choice maps to REQUIRED / NONE, and a named tool to REQUIRED with it alone", () => {
  const base: ChatRequest = {
    model: "cohere/x",
    messages: [{ role: "user", content: "hi" }],
    tools: [weather, time],
  };
  const body = (r: ChatRequest) => JSON.parse(build(cohereAdapter, r, ctx).body);
  assert.equal(body({ ...base, tool_choice: "required" }).tool_choice, "REQUIRED");
  assert.equal(body({ ...base, tool_choice: "none" }).tool_choice, "NONE");
  assert.equal(body({ ...base, tool_choice: "auto" }).tool_choice, undefined);
  const named = body({
    ...base,
    tool_choice: { type: "function", function: { name: "get_time" } },
  });
  assert.equal(named.tool_choice, "REQUIRED");
  assert.deepEqual(named.tools.map((t: { function: { name: string } }) => t.function.name), [
    "get_time",
  ]);
  assert.throws(
    () => body({ ...base, tool_choice: { type: "function", function: { name: "nope" } } }),
    /nope/,
  );
});

Deno.test("a JSON schema response format carries its schema; streams and keyless calls", () => {
  const schema = { type: "object", properties: { a: { type: "number" } }, required: ["a"] };
  const up = build(cohereAdapter, {
    model: "cohere/x",
    messages: [{ role: "user", content: "hi" }],
    response_format: { type: "json_schema", json_schema: { name: "A", schema, strict: true } },
  }, { ...ctx, stream: true, apiKey: "" });
  const body = JSON.parse(up.body);
  assert.deepEqual(body.response_format, { type: "json_object", json_schema: schema });
  assert.equal(body.stream, true);
  assert.equal(up.headers.accept, "text/event-stream");
  assert.equal("authorization" in up.headers, false);
});

Deno.test("a response's text parts are joined, thinking is left out, tool calls come through", () => {
  const c = cohereAdapter.parseChatResponse({
    id: "resp-1",
    finish_reason: "TOOL_CALL",
    message: {
      role: "assistant",
      tool_plan: "I will look up the weather.",
      content: [
        { type: "thinking", thinking: "hmm" },
        { type: "text", text: "Checking " },
        { type: "text", text: "now." },
      ],
      tool_calls: [{
        id: "get_weather_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
      }],
    },
    usage: {
      billed_units: { input_tokens: 10, output_tokens: 4 },
      tokens: { input_tokens: 30, output_tokens: 4 },
      cached_tokens: 12,
    },
  }, ctx);
  assert.equal(c.id, "resp-1");
  assert.equal(c.model, "command-a-03-2025");
  assert.equal(c.created, ctx.nowSec);
  assert.equal(c.choices[0].message.content, "Checking now.");
  assert.deepEqual(c.choices[0].message.tool_calls, [{
    id: "get_weather_1",
    type: "function",
    function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
  }]);
  assert.equal(c.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(c.usage, {
    prompt_tokens: 30,
    completion_tokens: 4,
    total_tokens: 34,
    prompt_tokens_details: { cached_tokens: 12 },
  });
});

Deno.test("finish reasons map to OpenAI's; billed units stand in for missing token counts", () => {
  const rows: [string, string][] = [
    ["COMPLETE", "stop"],
    ["STOP_SEQUENCE", "stop"],
    ["MAX_TOKENS", "length"],
    ["TOOL_CALL", "tool_calls"],
  ];
  for (const [reason, expected] of rows) {
    const c = cohereAdapter.parseChatResponse({
      id: "r",
      finish_reason: reason,
      message: { role: "assistant", content: [{ type: "text", text: "x" }] },
      usage: { billed_units: { input_tokens: 5, output_tokens: 1 } },
    }, ctx);
    assert.equal(c.choices[0].finish_reason, expected, reason);
    assert.equal(c.usage?.total_tokens, 6);
  }
});

Deno.test("a 200 whose generation ended in ERROR or TIMEOUT is an upstream failure", () => {
  for (const [reason, status] of [["ERROR", 500], ["TIMEOUT", 504]] as const) {
    let thrown: unknown;
    try {
      cohereAdapter.parseChatResponse({
        id: "r",
        finish_reason: reason,
        message: { role: "assistant", content: [] },
      }, ctx);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof UpstreamStreamError, reason);
    assert.equal(thrown.status, status);
    assert.equal(classifyStreamError(thrown, 0).kind, "transient");
  }
  assert.throws(() => cohereAdapter.parseChatResponse({ choices: [] }, ctx), /not a chat response/);
});

Deno.test("a streamed tool call arrives as OpenAI tool_call deltas, then finish and usage", async () => {
  const transcript =
    ev("message-start", { id: "msg-9", delta: { message: { role: "assistant" } } }) +
    ev("tool-plan-delta", { delta: { message: { tool_plan: "I will call two tools." } } }) +
    ev("tool-call-start", {
      index: 0,
      delta: {
        message: {
          tool_calls: {
            id: "get_weather_a",
            type: "function",
            function: { name: "get_weather", arguments: "" },
          },
        },
      },
    }) +
    ev("tool-call-delta", {
      index: 0,
      delta: { message: { tool_calls: { function: { arguments: '{"city":' } } } },
    }) +
    ev("tool-call-delta", {
      index: 0,
      delta: { message: { tool_calls: { function: { arguments: '"Oslo"}' } } } },
    }) +
    ev("tool-call-end", { index: 0 }) +
    ev("tool-call-start", {
      index: 1,
      delta: {
        message: {
          tool_calls: {
            id: "get_time_b",
            type: "function",
            function: { name: "get_time", arguments: "{}" },
          },
        },
      },
    }) +
    ev("tool-call-end", { index: 1 }) +
    ev("message-end", {
      delta: {
        finish_reason: "TOOL_CALL",
        usage: { billed_units: { input_tokens: 8, output_tokens: 20 } },
      },
    });
  const { chunks, finished, error } = await decodeTranscript(cohereAdapter, transcript, 5);
  assert.equal(error, undefined);
  assert.equal(finished, true);
  assert.ok(chunks.every((c) => c.id === "msg-9" && c.object === "chat.completion.chunk"));
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(calls[0], {
    index: 0,
    id: "get_weather_a",
    type: "function",
    function: { name: "get_weather", arguments: "" },
  });
  const args = (i: number) =>
    calls.filter((c) => c.index === i).map((c) => c.function?.arguments ?? "").join("");
  assert.equal(args(0), '{"city":"Oslo"}');
  assert.equal(args(1), "{}");
  assert.equal(calls.find((c) => c.index === 1)?.id, "get_time_b");
  const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter((x) => x);
  assert.deepEqual(finishes, ["tool_calls"]);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 8, completion_tokens: 20, total_tokens: 28 });
});

Deno.test("a stream that ends in ERROR fails the attempt after the content it sent", async () => {
  const transcript = ev("message-start", { id: "m" }) +
    ev("content-delta", { index: 0, delta: { message: { content: { text: "Par" } } } }) +
    ev("message-end", { delta: { finish_reason: "ERROR", error: "internal model failure" } });
  const { chunks, finished, error } = await decodeTranscript(cohereAdapter, transcript);
  assert.equal(finished, false);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Par");
  assert.ok(error instanceof UpstreamStreamError);
  assert.equal(error.message, "internal model failure");
  assert.equal(classifyStreamError(error, 0).kind, "transient");
});

Deno.test("garbage in a stream is the upstream's fault; [DONE] after message-end is fine", async () => {
  const bad = await decodeTranscript(cohereAdapter, "event: content-delta\ndata: {oops\n\n");
  assert.ok(bad.error instanceof SyntaxError);
  const done = await decodeTranscript(
    cohereAdapter,
    ev("message-start") + ev("message-end", { delta: { finish_reason: "COMPLETE" } }) +
      "data: [DONE]\n\n",
  );
  assert.equal(done.error, undefined);
  assert.equal(done.finished, true);
});

Deno.test("errors read Cohere's message and classify by status", () => {
  const classify = (status: number, body: string) =>
    classifyHttpFailure({
      status,
      headers: new Headers({ "retry-after": "3" }),
      error: cohereAdapter.parseError(status, body),
      now: 0,
    });
  const limited = classify(429, JSON.stringify({ message: "You are using a Trial key" }));
  assert.equal(limited.kind, "rate_limit");
  assert.equal(limited.retryAfterMs, 3000);
  assert.equal(limited.message, "You are using a Trial key");
  assert.equal(classify(498, JSON.stringify({ message: "invalid api token" })).kind, "auth");
  assert.equal(
    classify(400, JSON.stringify({ message: "invalid request: x" })).kind,
    "caller_fault",
  );
  assert.deepEqual(cohereAdapter.parseError(502, "bad gateway"), { message: "bad gateway" });
  assert.deepEqual(cohereAdapter.parseError(503, ""), { message: "HTTP 503" });
});

Deno.test("embeddings ask /embed for float vectors of documents", async () => {
  const up = await cohereAdapter.buildEmbeddingsRequest!(
    {
      model: "cohere/embed-v4.0",
      fallbacks: ["openai/x"],
      input: "hello",
      dimensions: 512,
      encoding_format: "base64",
    },
    { ...ctx, model: "embed-v4.0" },
  );
  assert.equal(up.url, "https://api.cohere.com/v2/embed");
  assert.equal(up.headers.authorization, "Bearer sk-test");
  assert.deepEqual(JSON.parse(up.body as string), {
    model: "embed-v4.0",
    texts: ["hello"],
    input_type: "search_document",
    embedding_types: ["float"],
    output_dimension: 512,
  });
  assert.throws(
    () => cohereAdapter.buildEmbeddingsRequest!({ model: "c/e", input: [[1, 2]] }, ctx),
    /token arrays/,
  );

  const res = cohereAdapter.parseEmbeddingsResponse!({
    id: "e-1",
    response_type: "embeddings_by_type",
    embeddings: { float: [[0.5, -0.25], [1, 0]] },
    texts: ["a", "b"],
    meta: { api_version: { version: "2" }, billed_units: { input_tokens: 2 } },
  }, { ...ctx, model: "embed-v4.0" });
  assert.deepEqual(res, {
    object: "list",
    data: [
      { object: "embedding", index: 0, embedding: [0.5, -0.25] },
      { object: "embedding", index: 1, embedding: [1, 0] },
    ],
    model: "embed-v4.0",
    usage: { prompt_tokens: 2, total_tokens: 2 },
  });
  assert.throws(
    () => cohereAdapter.parseEmbeddingsResponse!({ embeddings: { int8: [[1]] } }, ctx),
    /no float embeddings/,
  );
});

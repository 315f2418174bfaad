import assert from "node:assert/strict";
import { anthropicAdapter, UpstreamStreamError } from "../../../src/providers/mod.ts";
import type { ChatChunk, ChatRequest } from "../../../src/openai/types.ts";
import { build, ctx, decodeTranscript, fixtureJson, fixtureText } from "../fixtures/load.ts";

const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

function body(request: Partial<ChatRequest>, stream = false) {
  const full = { model: "anthropic/claude", messages: [], ...request } as ChatRequest;
  return JSON.parse(build(anthropicAdapter, full, { ...ctx, stream }).body);
}

Deno.test("buildChatRequest posts to /messages with Anthropic's headers", () => {
  const req = build(anthropicAdapter, {
    model: "anthropic/claude",
    messages: [{ role: "user", content: "Hi" }],
  }, { ...ctx, baseUrl: "https://api.anthropic.com/v1", stream: true });
  assert.equal(req.url, "https://api.anthropic.com/v1/messages");
  assert.equal(req.headers["x-api-key"], "sk-test");
  assert.equal(req.headers["anthropic-version"], "2023-06-01");
  assert.equal(req.headers["content-type"], "application/json");
  assert.equal(req.headers.authorization, undefined);
  assert.deepEqual(JSON.parse(req.body), {
    model: "upstream-model",
    max_tokens: 4096,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
    stream: true,
  });
});

Deno.test("buildChatRequest maps sampling, stop, user and max tokens", () => {
  const b = body({
    messages: [{ role: "user", content: "Hi" }],
    max_tokens: 100,
    max_completion_tokens: 200,
    temperature: 1.6,
    top_p: 0.9,
    stop: "END",
    user: "user-42",
    fallbacks: ["openai/gpt-4o"],
    n: 1,
  });
  assert.equal(b.max_tokens, 200); // max_completion_tokens wins
  assert.equal(b.temperature, 1); // clamped to Anthropic's range
  assert.equal(b.top_p, 0.9);
  assert.deepEqual(b.stop_sequences, ["END"]);
  assert.deepEqual(b.metadata, { user_id: "user-42" });
  for (const gone of ["fallbacks", "n", "stop", "user", "max_completion_tokens", "stream"]) {
    assert.equal(b[gone], undefined, gone);
  }
  assert.equal(body({ max_tokens: 50, stop: ["a", "b"] }).max_tokens, 50);
  assert.deepEqual(body({ stop: ["a", "b"] }).stop_sequences, ["a", "b"]);
});

Deno.test("buildChatRequest hoists system and developer messages and merges same-role turns", () => {
  const b = body({
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "One" },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "user", content: [{ type: "text", text: "Two" }] },
      { role: "assistant", content: "Un, deux" },
      { role: "assistant", content: null },
      { role: "user", content: "Three" },
    ],
  });
  assert.equal(b.system, "Be brief.\n\nAnswer in French.");
  assert.deepEqual(b.messages, [
    { role: "user", content: [{ type: "text", text: "One" }, { type: "text", text: "Two" }] },
    { role: "assistant", content: [{ type: "text", text: "Un, deux" }] },
    { role: "user", content: [{ type: "text", text: "Three" }] },
  ]);
});

Deno.test("buildChatRequest maps images: data URLs to base64, http(s) to url sources", () => {
  const b = body({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What are these?" },
        { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
      ],
    }],
  });
  assert.deepEqual(b.messages[0].content, [
    { type: "text", text: "What are these?" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
    { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
  ]);
  assert.throws(
    () =>
      body({
        messages: [{
          role: "user",
          content: [{ type: "image_url", image_url: { url: "ftp://x" } }],
        }],
      }),
    /unsupported image URL/,
  );
});

Deno.test("buildChatRequest maps tools, tool calls and tool results", () => {
  const b = body({
    messages: [
      { role: "user", content: "Weather in Oslo and the time?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "toolu_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
          },
          { id: "toolu_2", type: "function", function: { name: "get_time", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "4°C" },
      { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "09:00" }] },
      { role: "user", content: "Thanks" },
    ],
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
      { type: "function", function: { name: "get_time" } },
    ],
    tool_choice: { type: "function", function: { name: "get_weather" } },
  });
  assert.deepEqual(b.tools, [
    {
      name: "get_weather",
      description: "Current weather",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    },
    { name: "get_time", input_schema: { type: "object", properties: {} } },
  ]);
  assert.deepEqual(b.tool_choice, { type: "tool", name: "get_weather" });
  assert.deepEqual(b.messages, [
    { role: "user", content: [{ type: "text", text: "Weather in Oslo and the time?" }] },
    {
      role: "assistant",
      content: [
        { type: "text", text: "Checking." },
        { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
        { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
      ],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "4°C" },
        { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "09:00" }] },
        { type: "text", text: "Thanks" },
      ],
    },
  ]);
});

Deno.test("buildChatRequest maps tool_choice and parallel_tool_calls", () => {
  const rows: [Partial<ChatRequest>, unknown][] = [
    [{}, undefined],
    [{ tool_choice: "auto" }, { type: "auto" }],
    [{ tool_choice: "required" }, { type: "any" }],
    [{ tool_choice: "none" }, { type: "none" }],
    [{ parallel_tool_calls: false }, { type: "auto", disable_parallel_tool_use: true }],
    [{ tool_choice: "required", parallel_tool_calls: false }, {
      type: "any",
      disable_parallel_tool_use: true,
    }],
    [{ tool_choice: "auto", parallel_tool_calls: true }, { type: "auto" }],
  ];
  for (const [req, expected] of rows) {
    assert.deepEqual(body(req).tool_choice, expected, JSON.stringify(req));
  }
});

Deno.test("buildChatRequest refuses tool calls whose arguments are not a JSON object", () => {
  for (const args of ["{broken", "[1,2]"]) {
    assert.throws(() =>
      body({
        messages: [{
          role: "assistant",
          content: null,
          tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: args } }],
        }],
      })
    );
  }
});

Deno.test("parseChatResponse maps text, ids, stop reason and cache-aware usage", async () => {
  const c = anthropicAdapter.parseChatResponse(await fixtureJson("./anthropic/message.json"), ctx);
  assert.deepEqual(c, {
    id: "msg_01FixtureText",
    object: "chat.completion",
    created: ctx.nowSec,
    model: "claude-sonnet-4-20250514",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Paris is the capital of France.", refusal: null },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage: {
      prompt_tokens: 2112, // 12 input + 2000 cache read + 100 cache write
      completion_tokens: 9,
      total_tokens: 2121,
      prompt_tokens_details: { cached_tokens: 2000 },
    },
  });
});

Deno.test("parseChatResponse maps tool_use blocks to tool_calls", async () => {
  const c = anthropicAdapter.parseChatResponse(
    await fixtureJson("./anthropic/message_tool_use.json"),
    ctx,
  );
  const choice = c.choices[0];
  assert.equal(choice.finish_reason, "tool_calls");
  assert.equal(choice.message.content, "Let me look that up.");
  assert.deepEqual(choice.message.tool_calls, [
    {
      id: "toolu_01FixtureA",
      type: "function",
      function: { name: "get_weather", arguments: '{"city":"Oslo","unit":"celsius"}' },
    },
    { id: "toolu_01FixtureB", type: "function", function: { name: "get_time", arguments: "{}" } },
  ]);
  assert.deepEqual(c.usage, {
    prompt_tokens: 420,
    completion_tokens: 77,
    total_tokens: 497,
    prompt_tokens_details: { cached_tokens: 0 },
  });
});

Deno.test("parseChatResponse maps every stop reason and rejects non-messages", () => {
  const rows: [string | null, string | null][] = [
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    [null, null],
  ];
  for (const [stop, finish] of rows) {
    const msg = { id: "m", model: "c", content: [], stop_reason: stop, usage: {} };
    assert.equal(anthropicAdapter.parseChatResponse(msg, ctx).choices[0].finish_reason, finish);
  }
  for (const bad of [null, { choices: [] }, { content: "text" }]) {
    assert.throws(() => anthropicAdapter.parseChatResponse(bad, ctx), /not a message/);
  }
});

function text(chunks: ChatChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
}

Deno.test("stream decoder turns Anthropic events into OpenAI chunks with a usage chunk", async () => {
  const { chunks, finished, error } = await decodeTranscript(
    anthropicAdapter,
    await fixtureText("./anthropic/stream.sse"),
    5,
  );
  assert.equal(error, undefined);
  assert.equal(finished, true);
  assert.ok(
    chunks.every((c) => c.id === "msg_01FixtureStream" && c.object === "chat.completion.chunk"),
  );
  assert.ok(
    chunks.every((c) => c.model === "claude-sonnet-4-20250514" && c.created === ctx.nowSec),
  );
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(text(chunks), "Hello, wörld ✓");
  const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(finish.length, 1);
  assert.equal(finish[0].choices[0].finish_reason, "stop");
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, {
    prompt_tokens: 325,
    completion_tokens: 12,
    total_tokens: 337,
    prompt_tokens_details: { cached_tokens: 300 },
  });
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
});

Deno.test("stream decoder streams tool_use blocks as indexed tool_calls deltas", async () => {
  const { chunks, finished } = await decodeTranscript(
    anthropicAdapter,
    await fixtureText("./anthropic/stream_tool_use.sse"),
    11,
  );
  assert.equal(finished, true);
  assert.equal(text(chunks), "Checking.");
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(calls[0], {
    index: 0, // the first tool call, though Anthropic's block index is 1
    id: "toolu_01FixtureS",
    type: "function",
    function: { name: "get_weather", arguments: "" },
  });
  assert.ok(calls.every((c) => c.index === 0));
  assert.deepEqual(JSON.parse(calls.map((c) => c.function?.arguments ?? "").join("")), {
    city: "Oslo",
  });
  assert.equal(chunks.at(-2)?.choices[0].finish_reason, "tool_calls");
  assert.equal(chunks.at(-1)?.usage?.completion_tokens, 89);
  assert.equal(chunks.at(-1)?.usage?.prompt_tokens, 472);
});

Deno.test("stream decoder numbers several tool calls 0, 1, …", () => {
  const d = anthropicAdapter.createStreamDecoder(ctx);
  const push = (o: unknown) => d.push({ data: JSON.stringify(o) });
  push({ type: "message_start", message: { id: "m", model: "c", usage: { input_tokens: 1 } } });
  for (const [i, name] of [[0, "a"], [1, "b"]] as const) {
    const [start] = push({
      type: "content_block_start",
      index: i,
      content_block: { type: "tool_use", id: `t${i}`, name, input: {} },
    });
    assert.equal(start.choices[0].delta.tool_calls?.[0].index, i);
    const [delta] = push({
      type: "content_block_delta",
      index: i,
      delta: { type: "input_json_delta", partial_json: "{}" },
    });
    assert.deepEqual(delta.choices[0].delta.tool_calls, [{
      index: i,
      function: { arguments: "{}" },
    }]);
  }
  assert.deepEqual(
    push({
      type: "content_block_delta",
      index: 5,
      delta: { type: "thinking_delta", thinking: "hm" },
    }),
    [],
  );
});

Deno.test("stream decoder throws UpstreamStreamError on an error event mid-stream", async () => {
  const { chunks, finished, error } = await decodeTranscript(
    anthropicAdapter,
    await fixtureText("./anthropic/stream_overloaded.sse"),
  );
  assert.equal(text(chunks), "Partial");
  assert.equal(finished, false);
  assert.ok(error instanceof UpstreamStreamError);
  assert.equal(error.status, 529);
  assert.deepEqual(error.info, { message: "Overloaded", type: "overloaded_error" });

  const d = anthropicAdapter.createStreamDecoder(ctx);
  assert.throws(
    () =>
      d.push({
        event: "error",
        data: '{"type":"error","error":{"type":"api_error","message":"boom"}}',
      }),
    (e) => e instanceof UpstreamStreamError && e.status === 500 && e.message === "boom",
  );
});

Deno.test("stream decoder ignores pings, rejects garbage, and stops after message_stop", () => {
  const d = anthropicAdapter.createStreamDecoder(ctx);
  assert.deepEqual(d.push({ event: "ping", data: '{"type": "ping"}' }), []);
  assert.deepEqual(d.push({ event: "ping", data: "{}" }), []); // type from the SSE event name
  assert.throws(() => d.push({ data: "{oops" }), SyntaxError);
  const [usage] = d.push({ event: "message_stop", data: '{"type":"message_stop"}' });
  assert.equal(d.finished, true);
  assert.equal(usage.id, ctx.id); // no message_start: the gateway's id stands in
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(d.push({ data: '{"type":"content_block_delta"}' }), []);
});

Deno.test("parseError reads Anthropic error bodies, including the spend-limit code", async () => {
  assert.deepEqual(
    anthropicAdapter.parseError(529, await fixtureText("./anthropic/error_overloaded.json")),
    { message: "Overloaded", type: "overloaded_error" },
  );
  assert.deepEqual(
    anthropicAdapter.parseError(429, await fixtureText("./anthropic/error_spend_limit.json")),
    {
      message: "Your organization has reached its monthly usage limit.",
      type: "rate_limit_error",
      code: "enforced_spend_limit_reached",
    },
  );
  assert.deepEqual(anthropicAdapter.parseError(502, "upstream connect error"), {
    message: "upstream connect error",
  });
  assert.deepEqual(anthropicAdapter.parseError(500, "{}"), { message: "{}" });
  assert.deepEqual(anthropicAdapter.parseError(500, ""), { message: "HTTP 500" });
});

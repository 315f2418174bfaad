// Converse ⇄ canonical translation for the Bedrock drop-in route: requests in, answers and
// stream events out, errors named as Bedrock names them; plus round trips through the Bedrock
// adapter (what the route receives, the adapter would send upstream unchanged).
import assert from "node:assert/strict";
import {
  chatToConverse,
  ConverseInputError,
  ConverseStreamTranslator,
  converseToChat,
  converseUsage,
  exceptionName,
  stopReason,
  streamExceptionName,
} from "../../src/http/bedrock_translate.ts";
import type { ChatChunk, ChatCompletion } from "../../src/openai/types.ts";
import { validateChatRequest } from "../../src/openai/validate.ts";
import { bedrockAdapter, converseBody } from "../../src/providers/bedrock/adapter.ts";
import { eventFrame } from "../../src/providers/bedrock/eventstream.ts";
import type { AdapterContext } from "../../src/providers/mod.ts";

const PNG = "iVBORw0KGgo=";

const toolConversation = {
  system: [{ text: "Be brief." }, { cachePoint: { type: "default" } }],
  messages: [
    {
      role: "user",
      content: [
        { text: "Weather in Paris? Here is the sky:" },
        { image: { format: "png", source: { bytes: PNG } } },
      ],
    },
    {
      role: "assistant",
      content: [
        { text: "Checking." },
        { toolUse: { toolUseId: "tu_1", name: "weather", input: { city: "Paris" } } },
      ],
    },
    {
      role: "user",
      content: [
        { toolResult: { toolUseId: "tu_1", content: [{ text: "18 C" }] } },
        { text: "Thanks, and tomorrow?" },
      ],
    },
  ],
  inferenceConfig: { maxTokens: 300, temperature: 0.3, topP: 0.8, stopSequences: ["END"] },
  toolConfig: {
    tools: [{
      toolSpec: {
        name: "weather",
        description: "Weather by city",
        inputSchema: { json: { type: "object", properties: { city: { type: "string" } } } },
      },
    }],
    toolChoice: { auto: {} },
  },
};

Deno.test("converseToChat: a tool conversation becomes the canonical request", () => {
  const chat = converseToChat(toolConversation, {
    model: "aws/claude",
    stream: true,
    fallbacks: ["oai/gpt-4o-mini"],
  });
  assert.deepEqual(chat, {
    model: "aws/claude",
    fallbacks: ["oai/gpt-4o-mini"],
    stream: true,
    messages: [
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "Weather in Paris? Here is the sky:" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [{
          id: "tu_1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        }],
      },
      { role: "tool", tool_call_id: "tu_1", content: "18 C" },
      { role: "user", content: [{ type: "text", text: "Thanks, and tomorrow?" }] },
    ],
    max_tokens: 300,
    temperature: 0.3,
    top_p: 0.8,
    stop: ["END"],
    tools: [{
      type: "function",
      function: {
        name: "weather",
        description: "Weather by city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    tool_choice: "auto",
  });
  assert.ok(validateChatRequest(chat).ok, "the result passes the gateway's own validation");
});

Deno.test("converseToChat → Bedrock adapter gives back the same Converse body", () => {
  const chat = validateChatRequest(
    converseToChat(toolConversation, { model: "a/b", stream: false }),
  );
  assert.ok(chat.ok);
  const { system: _withCachePoint, ...rest } = toolConversation;
  assert.deepEqual(converseBody(chat.value), { ...rest, system: [{ text: "Be brief." }] });
});

Deno.test("converseToChat: tool choice any/tool, json tool results, s3 images, guard content", () => {
  const chat = converseToChat({
    messages: [
      {
        role: "user",
        content: [
          { guardContent: { text: { text: "guarded" } } },
          { image: { format: "jpeg", source: { s3Location: { uri: "s3://b/k.jpg" } } } },
        ],
      },
      { role: "assistant", content: [{ toolUse: { toolUseId: "t", name: "f", input: {} } }] },
      {
        role: "user",
        content: [{ toolResult: { toolUseId: "t", content: [{ json: { ok: true } }] } }],
      },
    ],
    toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { any: {} } },
  }, { model: "a/b", stream: false });
  const messages = chat.messages as unknown[];
  assert.deepEqual(messages[0], {
    role: "user",
    content: [
      { type: "text", text: "guarded" },
      { type: "image_url", image_url: { url: "s3://b/k.jpg" } },
    ],
  });
  assert.deepEqual(messages[1], {
    role: "assistant",
    content: null,
    tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{}" } }],
  });
  assert.deepEqual(messages[2], { role: "tool", tool_call_id: "t", content: '{"ok":true}' });
  assert.equal(chat.tool_choice, "required");
  assert.deepEqual(chat.tools, [{ type: "function", function: { name: "f" } }]);
  const specific = converseToChat({
    messages: [{ role: "user", content: [{ text: "x" }] }],
    toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { tool: { name: "f" } } },
  }, { model: "a/b", stream: false });
  assert.deepEqual(specific.tool_choice, { type: "function", function: { name: "f" } });
});

Deno.test("converseToChat: what the gateway cannot take is a clear input error", () => {
  const rows: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ messages: [] }, /at least one message/],
    [
      {
        messages: [{ role: "user", content: [{ text: "x" }] }],
        guardrailConfig: { guardrailIdentifier: "g", guardrailVersion: "1" },
      },
      /guardrailConfig is not supported/,
    ],
    [{ messages: [{ role: "system", content: [] }] }, /role must be user or assistant/],
    [{ messages: [{ role: "user", content: "hi" }] }, /list of content blocks/],
    [
      { messages: [{ role: "user", content: [{ document: { format: "pdf" } }] }] },
      /document blocks are not supported/,
    ],
    [
      { messages: [{ role: "user", content: [{ toolUse: { toolUseId: "t", name: "f" } }] }] },
      /belongs in an assistant message/,
    ],
    [
      { messages: [{ role: "user", content: [{ image: { format: "bmp", source: {} } }] }] },
      /png, jpeg, gif or webp/,
    ],
    [
      {
        messages: [{ role: "user", content: [{ text: "x" }] }],
        toolConfig: { tools: [{ toolSpec: { name: "f" } }], toolChoice: { none: {} } },
      },
      /toolChoice must be auto, any or tool/,
    ],
  ];
  for (const [body, why] of rows) {
    assert.throws(
      () => converseToChat(body, { model: "a/b", stream: false }),
      (e: Error) => e instanceof ConverseInputError && why.test(e.message),
      String(why),
    );
  }
});

Deno.test("chatToConverse: text, tool use, stop reason, usage with cache reads, latency", () => {
  const completion: ChatCompletion = {
    id: "c",
    object: "chat.completion",
    created: 1,
    model: "m",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "Sure.",
        tool_calls: [
          { id: "t1", type: "function", function: { name: "f", arguments: '{"a":1}' } },
          { id: "t2", type: "function", function: { name: "g", arguments: "not json" } },
        ],
      },
      finish_reason: "tool_calls",
      logprobs: null,
    }],
    usage: {
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      prompt_tokens_details: { cached_tokens: 60 },
    },
  };
  assert.deepEqual(chatToConverse(completion, 12.6), {
    output: {
      message: {
        role: "assistant",
        content: [
          { text: "Sure." },
          { toolUse: { toolUseId: "t1", name: "f", input: { a: 1 } } },
          { toolUse: { toolUseId: "t2", name: "g", input: { arguments: "not json" } } },
        ],
      },
    },
    stopReason: "tool_use",
    usage: { inputTokens: 40, outputTokens: 20, totalTokens: 120, cacheReadInputTokens: 60 },
    metrics: { latencyMs: 13 },
  });
  assert.deepEqual(converseUsage(undefined), { inputTokens: 0, outputTokens: 0, totalTokens: 0 });
  const rows: [Parameters<typeof stopReason>[0], string][] = [
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["content_filter", "content_filtered"],
    [null, "end_turn"],
  ];
  for (const [finish, want] of rows) assert.equal(stopReason(finish), want);
});

const chunk = (
  delta: ChatChunk["choices"][0]["delta"],
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
): ChatChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

const STREAM: ChatChunk[] = [
  chunk({ role: "assistant", content: "" }),
  chunk({ content: "Let me " }),
  chunk({ content: "check." }),
  chunk({
    tool_calls: [{
      index: 0,
      id: "t1",
      type: "function",
      function: { name: "weather", arguments: "" },
    }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
  chunk({}, "tool_calls"),
  {
    ...chunk({}),
    choices: [],
    usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
  },
];

Deno.test("ConverseStreamTranslator: Bedrock's event order, blocks opened and closed", () => {
  const t = new ConverseStreamTranslator();
  const events = [...STREAM.flatMap((c) => t.push(c)), ...t.finish(42)];
  assert.deepEqual(events, [
    { type: "messageStart", payload: { role: "assistant" } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "Let me " } } },
    { type: "contentBlockDelta", payload: { contentBlockIndex: 0, delta: { text: "check." } } },
    { type: "contentBlockStop", payload: { contentBlockIndex: 0 } },
    {
      type: "contentBlockStart",
      payload: { contentBlockIndex: 1, start: { toolUse: { toolUseId: "t1", name: "weather" } } },
    },
    {
      type: "contentBlockDelta",
      payload: { contentBlockIndex: 1, delta: { toolUse: { input: '{"city":' } } },
    },
    {
      type: "contentBlockDelta",
      payload: { contentBlockIndex: 1, delta: { toolUse: { input: '"Oslo"}' } } },
    },
    { type: "contentBlockStop", payload: { contentBlockIndex: 1 } },
    { type: "messageStop", payload: { stopReason: "tool_use" } },
    {
      type: "metadata",
      payload: {
        usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 },
        metrics: { latencyMs: 42 },
      },
    },
  ]);
});

Deno.test("ConverseStreamTranslator: an upstream without finish_reason still ends properly", () => {
  const t = new ConverseStreamTranslator();
  const events = [...t.push(chunk({ content: "hi" })), ...t.finish(1)];
  assert.deepEqual(events.map((e) => e.type), [
    "messageStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
  ]);
  assert.deepEqual(events[3].payload, { stopReason: "end_turn" });
  assert.deepEqual(new ConverseStreamTranslator().finish(0).map((e) => e.type), [
    "messageStart",
    "messageStop",
    "metadata",
  ]);
});

Deno.test("ConverseStreamTranslator frames decode back to the same chunks with the adapter", async () => {
  const t = new ConverseStreamTranslator();
  const frames = [...STREAM.flatMap((c) => t.push(c)), ...t.finish(5)].map((e) =>
    eventFrame(e.type, e.payload)
  );
  const ctx: AdapterContext = {
    baseUrl: "https://x",
    apiKey: "",
    model: "m",
    stream: true,
    nowSec: 1,
    id: "c",
    now: 0,
    settings: {},
  };
  const decoder = bedrockAdapter.createStreamDecoder(ctx);
  const back: ChatChunk[] = [];
  for await (const e of bedrockAdapter.readStream!(ReadableStream.from(frames))) {
    back.push(...decoder.push(e));
  }
  assert.ok(decoder.finished);
  assert.equal(back.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Let me check.");
  assert.deepEqual(back.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []), [
    { index: 0, id: "t1", type: "function", function: { name: "weather", arguments: "" } },
    { index: 0, function: { arguments: '{"city":' } },
    { index: 0, function: { arguments: '"Oslo"}' } },
  ]);
  assert.equal(back.at(-1)?.usage?.total_tokens, 13);
});

Deno.test("exception names: gateway errors and stream failures as Bedrock names them", () => {
  const rows: [number, string, string][] = [
    [400, "invalid_request_error", "ValidationException"],
    [413, "invalid_request_error", "ValidationException"],
    [404, "model_unavailable", "ResourceNotFoundException"],
    [429, "rate_limit", "ThrottlingException"],
    [503, "unavailable", "ServiceUnavailableException"],
    [504, "timeout", "ModelTimeoutException"],
    [502, "transient", "InternalServerException"],
    [500, "internal_error", "InternalServerException"],
  ];
  for (const [status, type, name] of rows) assert.equal(exceptionName(status, type), name);
  assert.equal(streamExceptionName("rate_limit"), "throttlingException");
  assert.equal(streamExceptionName("caller_fault"), "validationException");
  assert.equal(streamExceptionName("transient"), "modelStreamErrorException");
});

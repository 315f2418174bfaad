// Converse ⇄ canonical translation for the Bedrock drop-in route: requests in, answers and
// stream events out, errors named as Bedrock names them; plus round trips through the Bedrock
// adapter (what the route receives, the adapter would send upstream unchanged).
import assert from "node:assert/strict";
import { ConverseStreamTranslator } from "../../../src/formats/bedrock/stream.ts";
import type { ChatChunk } from "../../../src/openai/types.ts";
import { bedrockAdapter } from "../../../src/providers/bedrock/adapter.ts";
import { eventFrame } from "../../../src/providers/bedrock/eventstream.ts";
import type { AdapterContext } from "../../../src/providers/mod.ts";

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

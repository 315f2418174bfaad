// Anthropic Messages ⇄ canonical OpenAI translation, table-driven: request bodies, answers, error
// mapping and the stream encoder's event order.
import assert from "node:assert/strict";
import { createAnthropicStreamEncoder } from "../../../src/formats/anthropic/stream.ts";
import type { ChatChunk } from "../../../src/openai/types.ts";

const chunk = (
  delta: ChatChunk["choices"][0]["delta"],
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
): ChatChunk => ({
  id: "chatcmpl-s1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk: ChatChunk = {
  id: "chatcmpl-s1",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o-mini",
  choices: [],
  usage: { prompt_tokens: 30, completion_tokens: 7, total_tokens: 37 },
};

function encode(chunks: ChatChunk[]) {
  const enc = createAnthropicStreamEncoder({ id: "req1", model: "oai/gpt-4o-mini" });
  return [...chunks.flatMap((c) => enc.push(c)), ...enc.finish()];
}

Deno.test("stream: text deltas in Anthropic's documented event order", () => {
  const events = encode([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hel" }),
    chunk({ content: "lo" }),
    chunk({}, "stop"),
    usageChunk,
  ]);
  assert.deepEqual(events.map((e) => e.event), [
    "message_start",
    "content_block_start",
    "ping",
    "content_block_delta",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  for (const e of events) assert.equal(e.data.type, e.event);
  assert.deepEqual(events[0].data.message, {
    id: "msg_chatcmpl-s1",
    type: "message",
    role: "assistant",
    model: "gpt-4o-mini",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 0, output_tokens: 0 },
  });
  assert.deepEqual(events[1].data, {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  });
  assert.deepEqual(events[3].data.delta, { type: "text_delta", text: "Hel" });
  assert.deepEqual(events[6].data, {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { input_tokens: 30, output_tokens: 7, cache_read_input_tokens: 0 },
  });
});

Deno.test("stream: text then two tool calls become three sequential blocks", () => {
  const events = encode([
    chunk({ role: "assistant", content: "Checking." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "call_a",
        type: "function",
        function: { name: "get_weather", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
    chunk({
      tool_calls: [{ index: 1, id: "call_b", function: { name: "get_time", arguments: "{}" } }],
    }),
    chunk({}, "tool_calls"),
  ]);
  const brief = events.map((e) => {
    const d = e.data as Record<string, unknown> & {
      index?: number;
      delta?: Record<string, unknown>;
      content_block?: Record<string, unknown>;
    };
    if (e.event === "content_block_start") return `start ${d.index} ${d.content_block?.type}`;
    if (e.event === "content_block_delta") {
      return `delta ${d.index} ${d.delta?.type} ${d.delta?.text ?? d.delta?.partial_json}`;
    }
    if (e.event === "content_block_stop") return `stop ${d.index}`;
    return e.event;
  });
  assert.deepEqual(brief, [
    "message_start",
    "start 0 text",
    "ping",
    "delta 0 text_delta Checking.",
    "stop 0",
    "start 1 tool_use",
    'delta 1 input_json_delta {"city":',
    'delta 1 input_json_delta "Paris"}',
    "stop 1",
    "start 2 tool_use",
    "delta 2 input_json_delta {}",
    "stop 2",
    "message_delta",
    "message_stop",
  ]);
  assert.deepEqual(events[5].data.content_block, {
    type: "tool_use",
    id: "call_a",
    name: "get_weather",
    input: {},
  });
  const last = events.at(-2)!.data;
  assert.deepEqual(last.delta, { stop_reason: "tool_use", stop_sequence: null });
  assert.deepEqual(last.usage, { output_tokens: 0 });
});

Deno.test("stream: length → max_tokens; an empty stream still opens and closes the message", () => {
  const cut = encode([chunk({ content: "abc" }), chunk({}, "length")]);
  assert.equal((cut.at(-2)!.data.delta as { stop_reason: string }).stop_reason, "max_tokens");
  const empty = encode([]);
  assert.deepEqual(empty.map((e) => e.event), ["message_start", "message_delta", "message_stop"]);
  assert.equal((empty[0].data.message as { model: string }).model, "oai/gpt-4o-mini");
});

Deno.test("stream: nothing is emitted after finish; interleaved tool arguments throw", () => {
  const enc = createAnthropicStreamEncoder({ id: "r", model: "m" });
  enc.push(chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: "{" } }] }));
  enc.push(
    chunk({ tool_calls: [{ index: 1, id: "b", function: { name: "g", arguments: "{}" } }] }),
  );
  assert.throws(
    () => enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] })),
    /interleaved/,
  );
  assert.equal(enc.finish().at(-1)!.event, "message_stop");
  assert.deepEqual(enc.finish(), []);
  assert.deepEqual(enc.push(chunk({ content: "late" })), []);
});

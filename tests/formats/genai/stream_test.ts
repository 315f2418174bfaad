import assert from "node:assert/strict";
import { GenaiStreamEncoder } from "../../../src/formats/genai/stream.ts";
import type { ChatChunk } from "../../../src/openai/types.ts";

const chunk = (
  delta: ChatChunk["choices"][0]["delta"],
  finish: ChatChunk["choices"][0]["finish_reason"] = null,
): ChatChunk => ({
  id: "chatcmpl-s",
  object: "chat.completion.chunk",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

Deno.test("stream encoder: text as it comes, whole function calls and usage at the end", () => {
  const enc = new GenaiStreamEncoder();
  const out = [
    ...enc.push(chunk({ role: "assistant", content: "" })),
    ...enc.push(chunk({ content: "Let me " })),
    ...enc.push(chunk({ content: "check." })),
    ...enc.push(chunk({
      tool_calls: [{
        index: 0,
        id: "call_1",
        type: "function",
        function: { name: "weather", arguments: "" },
      }],
    })),
    ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] })),
    ...enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] })),
    ...enc.push(chunk({}, "tool_calls")),
  ];
  assert.deepEqual(out.map((r) => r.candidates), [
    [{ content: { role: "model", parts: [{ text: "Let me " }] }, index: 0 }],
    [{ content: { role: "model", parts: [{ text: "check." }] }, index: 0 }],
  ]);
  assert.deepEqual(
    enc.push({
      ...chunk({}),
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 },
    }),
    [],
  );
  assert.deepEqual(enc.end(), [{
    candidates: [{
      content: {
        role: "model",
        parts: [{ functionCall: { id: "call_1", name: "weather", args: { city: "Paris" } } }],
      },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-s",
  }]);
  assert.deepEqual(enc.end(), [{
    usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-s",
  }]);
  assert.deepEqual(new GenaiStreamEncoder().end(), []);
});

Deno.test("stream encoder: a finish chunk's own text is kept; calls left open are flushed", () => {
  const enc = new GenaiStreamEncoder();
  enc.push(chunk({ content: "Done." }, "length"));
  enc.push(
    chunk({ tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: "{}" } }] }),
  );
  const [last] = enc.end();
  assert.deepEqual(last.candidates, [
    {
      content: { role: "model", parts: [{ text: "Done." }] },
      finishReason: "MAX_TOKENS",
      index: 0,
    },
    {
      content: { role: "model", parts: [{ functionCall: { id: "c", name: "f", args: {} } }] },
      index: 0,
    },
  ]);
  assert.equal(last.usageMetadata, undefined);
});

import assert from "node:assert/strict";
import { assembleCompletion } from "../../src/openai/chunks_to_completion.ts";
import type { ChatChunk } from "../../src/openai/types.ts";

const chunk = (choices: ChatChunk["choices"], usage?: ChatChunk["usage"]): ChatChunk => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 7,
  model: "gpt-4o-mini",
  choices,
  ...(usage !== undefined ? { usage } : {}),
});

Deno.test("assembleCompletion: text in pieces becomes one message with the last finish_reason", () => {
  const a = assembleCompletion();
  assert.equal(a.result(), undefined, "nothing came");
  a.push(chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]));
  a.push(chunk([{ index: 0, delta: { content: "Hel" }, finish_reason: null }]));
  a.push(chunk([{ index: 0, delta: { content: "lo." }, finish_reason: "stop" }]));
  a.push(chunk([], { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }));
  assert.deepEqual(a.result(), {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 7,
    model: "gpt-4o-mini",
    choices: [{
      index: 0,
      message: { role: "assistant", content: "Hello.", refusal: null },
      finish_reason: "stop",
      logprobs: null,
    }],
    usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  });
});

Deno.test("assembleCompletion: tool calls merged by index, several choices, a usage given at the end", () => {
  const a = assembleCompletion();
  a.push(chunk([{
    index: 0,
    delta: {
      tool_calls: [{
        index: 0,
        id: "call_1",
        type: "function",
        function: { name: "get", arguments: "" },
      }],
    },
    finish_reason: null,
  }, { index: 1, delta: { content: "B" }, finish_reason: null }]));
  a.push(chunk([{
    index: 0,
    delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] },
    finish_reason: null,
  }]));
  a.push(chunk([{
    index: 0,
    delta: {
      tool_calls: [
        { index: 0, function: { arguments: '"x"}' } },
        { index: 1, id: "call_2", type: "function", function: { name: "put", arguments: "{}" } },
      ],
    },
    finish_reason: "tool_calls",
  }, { index: 1, delta: {}, finish_reason: "stop" }]));
  const out = a.result({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 })!;
  assert.deepEqual(out.choices[0].message, {
    role: "assistant",
    content: null,
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "get", arguments: '{"q":"x"}' } },
      { id: "call_2", type: "function", function: { name: "put", arguments: "{}" } },
    ],
    refusal: null,
  });
  assert.equal(out.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(out.choices[1].message.content, "B");
  assert.equal(out.choices[1].finish_reason, "stop");
  assert.deepEqual(out.usage, { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
});

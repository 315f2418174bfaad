// Anthropic Messages ⇄ canonical OpenAI translation, table-driven: request bodies, answers, error
// mapping and the stream encoder's event order.
import assert from "node:assert/strict";
import {
  anthropicUsage,
  chatToAnthropic,
  stopReason,
} from "../../../src/formats/anthropic/answer.ts";
import type { ChatCompletion } from "../../../src/openai/types.ts";

const completion = (
  message: ChatCompletion["choices"][0]["message"],
  finish: ChatCompletion["choices"][0]["finish_reason"],
  usage?: ChatCompletion["usage"],
): ChatCompletion => ({
  id: "chatcmpl-abc",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
  usage,
});

Deno.test("response: text, tool_use with parsed input, stop_reason and usage", () => {
  const m = chatToAnthropic(completion(
    {
      role: "assistant",
      content: "Let me check.",
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    "tool_calls",
    {
      prompt_tokens: 120,
      completion_tokens: 15,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
    },
  ));
  assert.deepEqual(m, {
    id: "msg_chatcmpl-abc",
    type: "message",
    role: "assistant",
    model: "gpt-4o-mini",
    content: [
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
    ],
    stop_reason: "tool_use",
    stop_sequence: null,
    usage: {
      input_tokens: 20,
      output_tokens: 15,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 100,
    },
  });
});

Deno.test("response: finish_reason → stop_reason", () => {
  const cases = [
    ["stop", "end_turn"],
    ["length", "max_tokens"],
    ["tool_calls", "tool_use"],
    ["function_call", "tool_use"],
    ["content_filter", "refusal"],
    [null, "end_turn"],
  ] as const;
  for (const [finish, want] of cases) {
    assert.equal(stopReason(finish), want, String(finish));
    const m = chatToAnthropic(completion({ role: "assistant", content: "x" }, finish));
    assert.equal(m.stop_reason, want, String(finish));
  }
});

Deno.test("response: an upstream msg_ id is kept; empty text and bad tool arguments", () => {
  const m = chatToAnthropic({
    ...completion({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: '{"cut": ' } }],
    }, "length"),
    id: "msg_01XYZ",
  });
  assert.equal(m.id, "msg_01XYZ");
  assert.deepEqual(m.content, [{ type: "tool_use", id: "t", name: "f", input: {} }]);
  assert.deepEqual(anthropicUsage(undefined), {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  });
});

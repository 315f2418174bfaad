// Converse ⇄ canonical translation for the Bedrock drop-in route: requests in, answers and
// stream events out, errors named as Bedrock names them; plus round trips through the Bedrock
// adapter (what the route receives, the adapter would send upstream unchanged).
import assert from "node:assert/strict";
import { chatToConverse, converseUsage, stopReason } from "../../../src/formats/bedrock/answer.ts";
import type { ChatCompletion } from "../../../src/openai/types.ts";

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

import assert from "node:assert/strict";
import { toGenaiResponse } from "../../../src/formats/genai/answer.ts";
import type { ChatCompletion } from "../../../src/openai/types.ts";

const completion: ChatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o-mini",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: "Checking.",
      tool_calls: [
        {
          id: "call_a",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Paris"}' },
        },
        { id: "call_b", type: "function", function: { name: "broken", arguments: "{oops" } },
      ],
    },
    finish_reason: "tool_calls",
    logprobs: null,
  }],
  usage: {
    prompt_tokens: 100,
    completion_tokens: 50,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 60 },
    completion_tokens_details: { reasoning_tokens: 30 },
  },
};

Deno.test("toGenaiResponse: parts, function calls with their ids, STOP, usage split back", () => {
  assert.deepEqual(toGenaiResponse(completion), {
    candidates: [{
      content: {
        role: "model",
        parts: [
          { text: "Checking." },
          { functionCall: { id: "call_a", name: "weather", args: { city: "Paris" } } },
          { functionCall: { id: "call_b", name: "broken", args: {} } },
        ],
      },
      finishReason: "STOP", // Gemini reports function calls with STOP
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount: 100,
      candidatesTokenCount: 20, // thinking tokens are counted apart in Gemini
      totalTokenCount: 150,
      cachedContentTokenCount: 60,
      thoughtsTokenCount: 30,
    },
    modelVersion: "gpt-4o-mini",
    responseId: "chatcmpl-1",
  });
  const finish = (finish_reason: ChatCompletion["choices"][0]["finish_reason"]) =>
    (toGenaiResponse({
      ...completion,
      usage: undefined,
      choices: [{ ...completion.choices[0], finish_reason }],
    }).candidates as { finishReason?: string }[])[0].finishReason;
  assert.equal(finish("stop"), "STOP");
  assert.equal(finish("length"), "MAX_TOKENS");
  assert.equal(finish("content_filter"), "SAFETY");
  assert.equal(finish(null), undefined);
});

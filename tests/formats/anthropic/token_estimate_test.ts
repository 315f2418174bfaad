import assert from "node:assert/strict";
import {
  CHARS_PER_TOKEN,
  estimateInputTokens,
  TOKENS_PER_IMAGE,
  TOKENS_PER_MESSAGE,
} from "../../../src/formats/anthropic/token_estimate.ts";

Deno.test("about four characters a token over system, messages and tools, plus each turn", () => {
  const text = "x".repeat(400);
  assert.equal(
    estimateInputTokens({ messages: [{ role: "user", content: text }] }),
    400 / CHARS_PER_TOKEN + TOKENS_PER_MESSAGE,
  );
  const withSystem = estimateInputTokens({
    system: [{ type: "text", text }],
    messages: [{ role: "user", content: text }],
  });
  assert.equal(withSystem, 800 / CHARS_PER_TOKEN + TOKENS_PER_MESSAGE);
  const tool = { name: "weather", input_schema: { type: "object" } };
  assert.equal(
    estimateInputTokens({ messages: [{ role: "user", content: text }], tools: [tool] }),
    Math.ceil((400 + JSON.stringify(tool).length) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE,
  );
});

Deno.test("blocks count by what the model reads: text, tool calls and results, images", () => {
  const n = estimateInputTokens({
    messages: [
      { role: "user", content: [{ type: "text", text: "abcd" }, { type: "image", source: {} }] },
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t1", name: "f", input: { a: 1 } }],
      },
      {
        role: "user",
        content: [{
          type: "tool_result",
          tool_use_id: "t1",
          content: [{ type: "text", text: "ok" }],
        }],
      },
    ],
  });
  const chars = 4 + "f".length + JSON.stringify({ a: 1 }).length + 2;
  assert.equal(n, Math.ceil(chars / CHARS_PER_TOKEN) + TOKENS_PER_IMAGE + 3 * TOKENS_PER_MESSAGE);
});

Deno.test("never 0: an empty turn still costs its framing, unknown blocks their JSON", () => {
  assert.equal(
    estimateInputTokens({ messages: [{ role: "user", content: "" }] }),
    TOKENS_PER_MESSAGE,
  );
  assert.ok(estimateInputTokens({ messages: [] }) >= 1);
  const block = { type: "search_result", source: "s", title: "t", content: [] };
  assert.equal(
    estimateInputTokens({ messages: [{ role: "user", content: [block] }] }),
    Math.ceil(JSON.stringify(block).length / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE,
  );
});

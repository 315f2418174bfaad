import assert from "node:assert/strict";
import { requestTexts } from "../../src/plugins/plugin.ts";
import { chat } from "../_support/plugin_ctx.ts";

Deno.test("requestTexts: every message's text, string or text parts, images skipped", () => {
  const texts = requestTexts(chat({
    messages: [
      { role: "system", content: "sys" },
      {
        role: "user",
        content: [
          { type: "text", text: "look" },
          { type: "image_url", image_url: { url: "data:," } },
          { type: "text", text: "here" },
        ],
      },
      { role: "assistant", content: null, tool_calls: [] },
    ],
  }));
  assert.deepEqual(texts, ["sys", "look", "here"]);
});

Deno.test("requestTexts: embeddings input strings; token arrays have no text", () => {
  assert.deepEqual(requestTexts({ kind: "embeddings", body: { model: "a/b", input: "one" } }), [
    "one",
  ]);
  assert.deepEqual(
    requestTexts({ kind: "embeddings", body: { model: "a/b", input: ["x", "y"] } }),
    ["x", "y"],
  );
  assert.deepEqual(requestTexts({ kind: "embeddings", body: { model: "a/b", input: [1, 2] } }), []);
});

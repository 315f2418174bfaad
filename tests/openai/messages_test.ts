import assert from "node:assert/strict";
import {
  answerMessage,
  assistantMessage,
  dataUrl,
  parseDataUrl,
  toolCall,
} from "../../src/openai/messages.ts";

Deno.test("assistantMessage: content is null only when the turn just calls tools", () => {
  const call = toolCall("call_1", "weather", { city: "Paris" });
  assert.deepEqual(assistantMessage("Hi", []), { role: "assistant", content: "Hi" });
  assert.deepEqual(assistantMessage("", []), { role: "assistant", content: "" });
  assert.deepEqual(assistantMessage("", [call]), {
    role: "assistant",
    content: null,
    tool_calls: [call],
  });
  assert.deepEqual(assistantMessage("Checking.", [call]), {
    role: "assistant",
    content: "Checking.",
    tool_calls: [call],
  });
});

Deno.test("toolCall carries the input as JSON text, {} when there is none", () => {
  assert.deepEqual(toolCall("t1", "f", { a: 1 }), {
    id: "t1",
    type: "function",
    function: { name: "f", arguments: '{"a":1}' },
  });
  assert.equal(toolCall("t2", "f", undefined).function.arguments, "{}");
  assert.equal(toolCall("t3", "f", null).function.arguments, "{}");
});

Deno.test("data: URLs: built and read back; other URLs are not data", () => {
  const url = dataUrl("image/png", "iVBORw0KGgo=");
  assert.equal(url, "data:image/png;base64,iVBORw0KGgo=");
  assert.deepEqual(parseDataUrl(url), { mediaType: "image/png", base64: "iVBORw0KGgo=" });
  assert.equal(parseDataUrl("https://example.com/cat.png"), undefined);
  assert.equal(parseDataUrl("data:image/png,rawbytes"), undefined, "not base64");
});

Deno.test("answerMessage: an assistant turn with the refusal OpenAI's schema requires", () => {
  assert.deepEqual(answerMessage("hi", []), { role: "assistant", content: "hi", refusal: null });
  const call = { id: "c1", type: "function" as const, function: { name: "f", arguments: "{}" } };
  assert.deepEqual(answerMessage("", [call]), {
    role: "assistant",
    content: null,
    tool_calls: [call],
    refusal: null,
  });
});

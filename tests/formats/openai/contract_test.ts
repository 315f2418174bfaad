// OpenAI's chat completions pass the wire-format contract (../_contract.ts).
import assert from "node:assert/strict";
import { openaiChat } from "../../../src/formats/openai/mod.ts";
import { formatContract } from "../_contract.ts";

formatContract({
  format: openaiChat,
  minimal: {
    url: "http://gw/v1/chat/completions",
    body: { model: "p/m", messages: [{ role: "user", content: "hello" }] },
  },
  model: "p/m",
  bad: { model: "p/m", messages: "hello" },
  errorShape(body, message) {
    const e = (body as { error: Record<string, unknown> }).error;
    assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
    assert.equal(e.message, message);
  },
  answerText: (body) =>
    (body as { choices: { message: { content: string } }[] }).choices[0].message.content,
  streamEnded: (text) => text.endsWith("data: [DONE]\n\n"),
  streamFailed: (text) => text.includes("event: error\n"),
});

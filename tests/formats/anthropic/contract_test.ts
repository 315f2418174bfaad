// Anthropic's Messages API passes the wire-format contract (../_contract.ts).
import assert from "node:assert/strict";
import { anthropicMessages } from "../../../src/formats/anthropic/mod.ts";
import { formatContract } from "../_contract.ts";

formatContract({
  format: anthropicMessages,
  minimal: {
    url: "http://gw/anthropic/v1/messages",
    body: { model: "p/m", max_tokens: 10, messages: [{ role: "user", content: "hello" }] },
  },
  model: "p/m",
  bad: { model: "p/m", max_tokens: 10, messages: "hello" },
  unserved: { url: "http://gw/anthropic/v1/models", method: "GET" },
  errorShape(body, message) {
    const b = body as { type: string; error: { type: string; message: string } };
    assert.equal(b.type, "error");
    assert.equal(typeof b.error.type, "string");
    assert.equal(b.error.message, message);
  },
  answerText: (body) => (body as { content: { text: string }[] }).content[0].text,
  streamEnded: (text) => text.includes("event: message_stop\n"),
  streamFailed: (text) => text.includes("event: error\n"),
});

// Bedrock's Converse API passes the wire-format contract (../_contract.ts). Its streams are binary
// event-stream frames; their header names and JSON payloads read as text.
import assert from "node:assert/strict";
import { bedrockConverse } from "../../../src/formats/bedrock/mod.ts";
import { formatContract } from "../_contract.ts";

formatContract({
  format: bedrockConverse,
  minimal: {
    url: "http://gw/bedrock/model/p%2Fm/converse-stream",
    body: { messages: [{ role: "user", content: [{ text: "hello" }] }] },
  },
  model: "p/m",
  bad: { messages: "hello" },
  unserved: { url: "http://gw/bedrock/model/p%2Fm/invoke", method: "POST" },
  errorShape(body, message) {
    assert.deepEqual(body, { message });
  },
  answerText: (body) =>
    (body as { output: { message: { content: { text: string }[] } } }).output.message.content[0]
      .text,
  streamEnded: (text) => text.includes("messageStop") && !text.includes(":exception-type"),
  streamFailed: (text) => text.includes(":exception-type"),
});

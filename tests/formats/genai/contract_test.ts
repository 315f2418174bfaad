// The Gemini API passes the wire-format contract (../_contract.ts).
import assert from "node:assert/strict";
import { genaiGenerate } from "../../../src/formats/genai/mod.ts";
import { formatContract } from "../_contract.ts";

formatContract({
  format: genaiGenerate,
  minimal: {
    url: "http://gw/genai/v1beta/models/p%2Fm:streamGenerateContent?alt=sse",
    body: { contents: [{ role: "user", parts: [{ text: "hello" }] }] },
  },
  model: "p/m",
  bad: { contents: "hello" },
  unserved: { url: "http://gw/genai/v1beta/models", method: "GET" },
  errorShape(body, message) {
    const e = (body as { error: { code: number; message: string; status: string } }).error;
    assert.equal(typeof e.code, "number");
    assert.match(e.status, /^[A-Z_]+$/);
    assert.equal(e.message, message);
  },
  answerText: (body) =>
    (body as { candidates: { content: { parts: { text: string }[] } }[] }).candidates[0].content
      .parts[0].text,
  streamEnded: (text) => /"finishReason":"STOP"/.test(text) && !text.includes('"error":'),
  streamFailed: (text) => text.includes('"error":{'),
});

// The formats the gateway mounts all implement WireFormat with distinct names, and each answers a
// request it cannot read with its own error, never by throwing.
import assert from "node:assert/strict";
import {
  anthropicMessages,
  bedrockConverse,
  genaiGenerate,
  openaiChat,
  type WireFormat,
} from "../../src/formats/mod.ts";
import { invalid } from "../../src/http/call.ts";

const formats: WireFormat<unknown>[] = [
  openaiChat,
  anthropicMessages,
  genaiGenerate,
  bedrockConverse,
] as WireFormat<unknown>[];

Deno.test("wire formats: four, with distinct names", () => {
  assert.deepEqual(formats.map((f) => f.name), ["openai", "anthropic", "genai", "bedrock"]);
});

Deno.test("wire formats: every one encodes a 500 error as a JSON answer with the request id", async () => {
  for (const f of formats) {
    const res = f.encodeError({
      ...invalid({ t0: 0, requestId: "r9" }, 500, "boom", "internal_error"),
      type: "internal_error",
    });
    assert.equal(res.status, 500, f.name);
    assert.equal(res.headers.get("x-request-id"), "r9", f.name);
    assert.match(JSON.stringify(await res.json()), /boom/, f.name);
  }
});

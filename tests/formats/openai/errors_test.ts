import assert from "node:assert/strict";
import { openaiError } from "../../../src/formats/openai/errors.ts";

Deno.test("openaiError: OpenAI's error object, the status, the call's headers and Retry-After", async () => {
  const res = openaiError({
    ok: false,
    status: 503,
    message: "all down",
    type: "unavailable",
    code: "providers_unavailable",
    param: null,
    headers: { "x-request-id": "r1" },
    retryAfterMs: 2500,
  });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "3");
  assert.equal(res.headers.get("x-request-id"), "r1");
  assert.deepEqual(await res.json(), {
    error: { message: "all down", type: "unavailable", code: "providers_unavailable", param: null },
  });
});

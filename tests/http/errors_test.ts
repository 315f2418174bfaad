import assert from "node:assert/strict";
import { errorBody, errorResponse, jsonErrorResponse } from "../../src/http/errors.ts";

Deno.test("errorBody is OpenAI's error shape with all four fields", () => {
  assert.deepEqual(errorBody("bad temperature", "invalid_request_error", "invalid_request", "t"), {
    error: {
      message: "bad temperature",
      type: "invalid_request_error",
      code: "invalid_request",
      param: "t",
    },
  });
  assert.deepEqual(errorBody("x", "internal_error", null), {
    error: { message: "x", type: "internal_error", code: null, param: null },
  });
});

Deno.test("errorResponse carries status, JSON content type and the body", async () => {
  const res = errorResponse(404, "No route.", "invalid_request_error", "not_found", {
    param: "model",
  });
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("retry-after"), null);
  assert.deepEqual(await res.json(), {
    error: {
      message: "No route.",
      type: "invalid_request_error",
      code: "not_found",
      param: "model",
    },
  });
});

Deno.test("extra headers are kept, but the content type is always JSON", () => {
  const res = errorResponse(400, "m", "t", "c", {
    headers: { "x-request-id": "abc", "content-type": "text/plain" },
  });
  assert.equal(res.headers.get("x-request-id"), "abc");
  assert.equal(res.headers.get("content-type"), "application/json");
  void res.body?.cancel();
});

Deno.test("Retry-After is whole seconds, rounded up, at least 1", async (t) => {
  for (
    const [ms, want] of [[0, "1"], [1, "1"], [999, "1"], [1_000, "1"], [1_001, "2"], [
      30_000,
      "30",
    ]] as const
  ) {
    await t.step(`${ms} ms → ${want}`, () => {
      const res = errorResponse(503, "m", "unavailable", "c", { retryAfterMs: ms });
      assert.equal(res.headers.get("retry-after"), want);
      void res.body?.cancel();
    });
  }
});

Deno.test("jsonErrorResponse: any route's body under its content type, with Retry-After", async () => {
  const headers = new Headers({ "x-request-id": "abc", "content-type": "text/plain" });
  const res = jsonErrorResponse(529, { type: "error" }, headers, 1_500, "application/json; x=1");
  assert.equal(res.status, 529);
  assert.equal(res.headers.get("content-type"), "application/json; x=1");
  assert.equal(res.headers.get("x-request-id"), "abc");
  assert.equal(res.headers.get("retry-after"), "2");
  assert.deepEqual(await res.json(), { type: "error" });
  const plain = jsonErrorResponse(400, {}, new Headers());
  assert.equal(plain.headers.get("content-type"), "application/json");
  assert.equal(plain.headers.has("retry-after"), false);
  void plain.body?.cancel();
});

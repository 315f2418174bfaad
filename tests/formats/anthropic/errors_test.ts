// Anthropic Messages ⇄ canonical OpenAI translation, table-driven: request bodies, answers, error
// mapping and the stream encoder's event order.
import assert from "node:assert/strict";
import { anthropicError, streamErrorType } from "../../../src/formats/anthropic/errors.ts";

Deno.test("errors: our status and type → Anthropic's status and error type", () => {
  const cases: [number, string, number, string][] = [
    [400, "invalid_request_error", 400, "invalid_request_error"],
    [400, "caller_fault", 400, "invalid_request_error"],
    [413, "invalid_request_error", 413, "request_too_large"],
    [404, "model_unavailable", 404, "not_found_error"],
    [429, "rate_limit", 429, "rate_limit_error"],
    [502, "transient", 502, "api_error"],
    [502, "auth", 502, "api_error"], // the gateway's upstream key failed, not the client's
    [503, "unavailable", 529, "overloaded_error"],
    [504, "timeout", 504, "timeout_error"],
    [500, "internal_error", 500, "api_error"],
    [422, "caller_fault", 422, "invalid_request_error"],
  ];
  for (const [status, type, wantStatus, wantType] of cases) {
    assert.deepEqual(
      anthropicError(status, type),
      { status: wantStatus, type: wantType },
      `${status} ${type}`,
    );
  }
  assert.equal(streamErrorType("transient", 529), "overloaded_error");
  assert.equal(streamErrorType("transient"), "api_error");
  assert.equal(streamErrorType("rate_limit", 429), "rate_limit_error");
  assert.equal(streamErrorType("timeout"), "timeout_error");
});

// ---------------------------------------------------------------------------------------------

import assert from "node:assert/strict";
import { genaiErrorBody, googleStatus } from "../../../src/formats/genai/errors.ts";

Deno.test("genaiErrorBody speaks Google's error shape with the gateway's code in details", () => {
  assert.deepEqual(
    genaiErrorBody({
      status: 429,
      message: "rate limited",
      type: "rate_limit",
      code: "rate_limited",
      retryAfterMs: 1500,
    }),
    {
      error: {
        code: 429,
        message: "rate limited",
        status: "RESOURCE_EXHAUSTED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "rate_limited",
            domain: "failover-gateway",
            metadata: { type: "rate_limit" },
          },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "2s" },
        ],
      },
    },
  );
  const bad = genaiErrorBody({
    status: 400,
    message: "m",
    type: "invalid_request_error",
    code: "invalid_request",
    param: "contents",
  });
  assert.deepEqual((bad.error as { details: unknown[] }).details[0], {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "invalid_request",
    domain: "failover-gateway",
    metadata: { type: "invalid_request_error", param: "contents" },
  });
  const rows: [number, string][] = [
    [400, "INVALID_ARGUMENT"],
    [401, "UNAUTHENTICATED"],
    [403, "PERMISSION_DENIED"],
    [404, "NOT_FOUND"],
    [429, "RESOURCE_EXHAUSTED"],
    [500, "INTERNAL"],
    [502, "UNAVAILABLE"],
    [503, "UNAVAILABLE"],
    [504, "DEADLINE_EXCEEDED"],
    [418, "FAILED_PRECONDITION"],
    [599, "INTERNAL"],
  ];
  for (const [status, name] of rows) assert.equal(googleStatus(status), name, String(status));
});

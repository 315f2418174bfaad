// Converse ⇄ canonical translation for the Bedrock drop-in route: requests in, answers and
// stream events out, errors named as Bedrock names them; plus round trips through the Bedrock
// adapter (what the route receives, the adapter would send upstream unchanged).
import assert from "node:assert/strict";
import { exceptionName, streamExceptionName } from "../../../src/formats/bedrock/errors.ts";

Deno.test("exception names: gateway errors and stream failures as Bedrock names them", () => {
  const rows: [number, string, string][] = [
    [400, "invalid_request_error", "ValidationException"],
    [413, "invalid_request_error", "ValidationException"],
    [404, "model_unavailable", "ResourceNotFoundException"],
    [429, "rate_limit", "ThrottlingException"],
    [503, "unavailable", "ServiceUnavailableException"],
    [504, "timeout", "ModelTimeoutException"],
    [502, "transient", "InternalServerException"],
    [500, "internal_error", "InternalServerException"],
  ];
  for (const [status, type, name] of rows) assert.equal(exceptionName(status, type), name);
  assert.equal(streamExceptionName("rate_limit"), "throttlingException");
  assert.equal(streamExceptionName("caller_fault"), "validationException");
  assert.equal(streamExceptionName("transient"), "modelStreamErrorException");
});

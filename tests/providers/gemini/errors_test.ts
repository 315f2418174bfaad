import assert from "node:assert/strict";
import {
  googleErrorInfo,
  googleErrorStatus,
  parseGoogleError,
} from "../../../src/providers/gemini/errors.ts";
import { classifyHttpFailure } from "../../../src/providers/mod.ts";

Deno.test("parseError reads Google's error, its ErrorInfo reason and its RetryInfo delay", () => {
  const body = JSON.stringify({
    error: {
      code: 429,
      message: "You exceeded your current quota, please check your plan and billing details.",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{
            quotaId: "GenerateRequestsPerMinutePerProjectPerModel",
            quotaValue: "60",
          }],
        },
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "21.5s" },
      ],
    },
  });
  const info = parseGoogleError(429, body);
  assert.equal(info.type, "RESOURCE_EXHAUSTED");
  assert.equal(info.code, "GenerateRequestsPerMinutePerProjectPerModel");
  const failure = classifyHttpFailure({ status: 429, headers: new Headers(), error: info, now: 0 });
  assert.equal(failure.kind, "rate_limit"); // not "quota", whatever the message says
  assert.equal(failure.retryAfterMs, 21_500);
  // The same 429 naming a per-day quota is spent until the day resets: quota, not a rate limit.
  const daily = parseGoogleError(429, body.replace("PerMinute", "PerDay"));
  const dailyKind = classifyHttpFailure({
    status: 429,
    headers: new Headers(),
    error: daily,
    now: 0,
  });
  assert.equal(dailyKind.kind, "quota");
  // A Retry-After header still wins over the body's hint.
  const withHeader = classifyHttpFailure({
    status: 429,
    headers: new Headers({ "retry-after": "3" }),
    error: info,
    now: 0,
  });
  assert.equal(withHeader.retryAfterMs, 3000);

  const wrapped = parseGoogleError(
    400,
    '[{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}]',
  );
  assert.deepEqual(wrapped, { message: "bad", type: "INVALID_ARGUMENT" });
  assert.deepEqual(parseGoogleError(502, "<html>Bad Gateway</html>"), {
    message: "<html>Bad Gateway</html>",
  });
  assert.deepEqual(parseGoogleError(500, ""), { message: "HTTP 500" });
});

Deno.test("an error object inside a 200 stream keeps its HTTP code for classification", () => {
  const event = { error: { code: 503, message: "overloaded", status: "UNAVAILABLE" } };
  assert.equal(googleErrorStatus(event), 503);
  assert.deepEqual(googleErrorInfo(event, "fallback"), {
    message: "overloaded",
    type: "UNAVAILABLE",
  });
  assert.equal(googleErrorStatus({ error: { code: 200 } }), undefined);
  assert.equal(googleErrorStatus({ error: "x" }), undefined);
  assert.deepEqual(googleErrorInfo({ other: 1 }, "fallback"), { message: "fallback" });
});

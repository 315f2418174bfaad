// src/lib/errors.ts defines no code, only the hot path's one error shape (GatewayError) and
// Result<T>. What a user notices of it: the same data, whoever produced it, reaches the client
// with its status, taxonomy type, code, param and message, Retry-After when it carries
// retryAfterMs, its headers, and never its cause. `deno task check` holds the type contract.
import assert from "node:assert/strict";
import { openaiError } from "../../src/formats/openai/errors.ts";
import type { GatewayError, Result } from "../../src/lib/errors.ts";

/** A producer on the hot path: a value, or the error that stopped it. */
function parsePositive(raw: string): Result<number> {
  const n = Number(raw);
  if (Number.isFinite(n) && n > 0) return { ok: true, value: n };
  return {
    ok: false,
    status: 400,
    type: "invalid_request_error",
    code: "not_positive",
    param: "max_tokens",
    message: `max_tokens must be positive, got ${JSON.stringify(raw)}`,
    cause: new Error("internal detail: sk-secret-123"),
  };
}

/** The edge: a Result turned into an answer, as a route does. */
function answer(r: Result<number>): Response {
  if (r.ok) return Response.json({ value: r.value });
  return openaiError({ ...r, headers: r.headers ?? {} });
}

Deno.test("Result: ok narrows to the value, an error to a GatewayError", async () => {
  const good = parsePositive("5");
  assert.equal(good.ok, true);
  if (good.ok) assert.equal(good.value, 5);
  const bad = parsePositive("-1");
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.status, 400);
    assert.equal(bad.param, "max_tokens");
  }
  assert.deepEqual(await answer(good).json(), { value: 5 });
});

Deno.test("a GatewayError reaches the client as status, type, code, param and message; never its cause", async () => {
  const res = answer(parsePositive("zero"));
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("retry-after"), null, "no retryAfterMs, no Retry-After");
  const text = await res.text();
  assert.doesNotMatch(text, /sk-secret-123|internal detail/, "the cause stays in the logs");
  assert.deepEqual(JSON.parse(text), {
    error: {
      message: 'max_tokens must be positive, got "zero"',
      type: "invalid_request_error",
      code: "not_positive",
      param: "max_tokens",
    },
  });
});

Deno.test("a GatewayError's retryAfterMs becomes Retry-After in whole seconds, rounded up", () => {
  const base: GatewayError = {
    ok: false,
    status: 503,
    type: "unavailable",
    code: "all_candidates_unavailable",
    param: null,
    message: "every candidate is cooling down",
    headers: { "x-request-id": "r-1", "x-gateway-attempts": "0" },
  };
  const cases: [number, string][] = [[0, "1"], [1, "1"], [1_000, "1"], [1_001, "2"], [
    12_345,
    "13",
  ]];
  for (const [ms, want] of cases) {
    const res = openaiError({ ...base, headers: base.headers!, retryAfterMs: ms });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), want, `${ms} ms`);
    assert.equal(res.headers.get("x-request-id"), "r-1", "its headers are carried");
    assert.equal(res.headers.get("x-gateway-attempts"), "0");
  }
});

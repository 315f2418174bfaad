// One call as every route sees it: the request id it answers with (the client's own when sane),
// the shape of a caller-fault error, and the x-gateway-fallbacks header.
import assert from "node:assert/strict";
import { invalid, parseFallbacksHeader, startCall } from "../../src/http/call.ts";
import { openaiError } from "../../src/formats/openai/errors.ts";
import type { Clock, IdGen } from "../../src/ports.ts";

function fakeGateway(now = 1_234) {
  let n = 0;
  const clock = { now: () => now } as Clock;
  const ids = { next: () => `gen-${++n}` } as IdGen;
  return { deps: { clock, ids } };
}

Deno.test("startCall keeps a sane client x-request-id and notes the start time", () => {
  const gw = fakeGateway(42);
  for (const id of ["abc", "req-1.2:3_x", "A".repeat(128), "0"]) {
    const call = startCall(gw, id);
    assert.equal(call.requestId, id);
    assert.equal(call.t0, 42);
  }
});

Deno.test("startCall replaces a missing, empty, too long or unsafe x-request-id with its own", () => {
  const gw = fakeGateway();
  const insane = [
    undefined,
    "",
    "A".repeat(129),
    "has space",
    "new\nline",
    "inject\r\nx-evil: 1",
    "<script>",
    "semi;colon",
    "slash/path",
    "ünïcode",
  ];
  const seen = new Set<string>();
  for (const sent of insane) {
    const call = startCall(gw, sent);
    assert.match(call.requestId, /^gen-\d+$/, `replaced: ${JSON.stringify(sent)}`);
    seen.add(call.requestId);
  }
  assert.equal(seen.size, insane.length, "each replaced call gets a fresh id");
});

Deno.test("invalid(): an invalid_request_error with the status, code, param and the request id", () => {
  const start = startCall(fakeGateway(), "req-7");
  const e = invalid(start, 400, "messages must not be empty", "invalid_messages", "messages");
  assert.deepEqual(e, {
    ok: false,
    status: 400,
    message: "messages must not be empty",
    type: "invalid_request_error",
    code: "invalid_messages",
    param: "messages",
    headers: { "x-request-id": "req-7" },
  });
  assert.equal(
    invalid(start, 413, "too big", "body_too_large").param,
    null,
    "param defaults to null",
  );
});

Deno.test("invalid() reaches the client in OpenAI's shape with its request id and no Retry-After", async () => {
  const start = startCall(fakeGateway(), "client-id");
  const res = openaiError(invalid(start, 422, "bad field", "bad_field", "temperature"));
  assert.equal(res.status, 422);
  assert.equal(res.headers.get("x-request-id"), "client-id");
  assert.equal(res.headers.get("retry-after"), null);
  assert.deepEqual(await res.json(), {
    error: {
      message: "bad field",
      type: "invalid_request_error",
      code: "bad_field",
      param: "temperature",
    },
  });
});

Deno.test("parseFallbacksHeader: comma-separated, trimmed, empties dropped, order kept", () => {
  const cases: [string | null | undefined, string[]][] = [
    [undefined, []],
    [null, []],
    ["", []],
    ["   ", []],
    ["a/b", ["a/b"]],
    ["a/b, c/d", ["a/b", "c/d"]],
    [" c/d ,a/b,, ,e/f ", ["c/d", "a/b", "e/f"]],
    [",,,", []],
  ];
  for (const [value, want] of cases) {
    assert.deepEqual(parseFallbacksHeader(value), want, JSON.stringify(value));
  }
});

import assert from "node:assert/strict";
import { headersPlugin, METADATA_LIMITS, parseMetadata } from "../../src/plugins/headers.ts";
import { attemptCtx, requestCtx } from "../_support/plugin_ctx.ts";

Deno.test("forwardHeaders: the named client headers go on every attempt's upstream request", async () => {
  const p = headersPlugin({ forwardHeaders: ["X-Trace-Id", "x-tenant"] });
  const r = requestCtx(undefined, { headers: { "x-trace-id": "t-42", "x-other": "no" } });
  for (const attempt of [1, 2]) {
    const a = attemptCtx(r, attempt);
    await p.pre!(a);
    assert.deepEqual(a.upstreamHeaders, { "x-trace-id": "t-42" }, `attempt ${attempt}`);
  }
});

Deno.test("credentials and connection headers can never be forwarded", () => {
  for (const h of ["Authorization", "x-api-key", "cookie", "host", "content-length"]) {
    assert.throws(() => headersPlugin({ forwardHeaders: [h] }), /never forwarded/, h);
  }
});

Deno.test("metadata: a JSON object header becomes the request's string labels", async () => {
  const p = headersPlugin({});
  const r = requestCtx(undefined, {
    headers: { "x-gateway-metadata": '{"team":"search","build":42,"beta":true}' },
  });
  assert.equal(await p.begin!(r), undefined);
  assert.deepEqual(r.metadata, { team: "search", build: "42", beta: "true" });
});

Deno.test("metadata: a malformed header is a 400 saying what is wrong", async () => {
  const p = headersPlugin({ metadataHeader: "x-meta" });
  const cases: [string, RegExp][] = [
    ["{not json", /is not valid JSON/],
    ["[1,2]", /must be a JSON object/],
    ['{"a":{"b":1}}', /"a" must be a string, number or boolean/],
    ['{"bad key":"x"}', /key "bad key"/],
    [JSON.stringify({ a: "x".repeat(METADATA_LIMITS.valueChars + 1) }), /over 256 characters/],
  ];
  for (const [value, why] of cases) {
    const v = await p.begin!(requestCtx(undefined, { headers: { "x-meta": value } }));
    assert.ok(v && "stop" in v, value);
    assert.equal(v.stop.status, 400);
    assert.equal(v.stop.code, "invalid_metadata");
    assert.match(v.stop.reason, /^The x-meta header /);
    assert.match(v.stop.reason, why, value);
  }
});

Deno.test("metadata: limits on size and key count", () => {
  const many = Object.fromEntries(
    Array.from({ length: METADATA_LIMITS.keys + 1 }, (_, i) => [`k${i}`, "v"]),
  );
  assert.deepEqual(parseMetadata(JSON.stringify(many)), {
    ok: false,
    status: 400,
    type: "invalid_request_error",
    code: "invalid_metadata",
    param: null,
    message: `The x-gateway-metadata header has more than ${METADATA_LIMITS.keys} keys.`,
  });
  assert.equal(parseMetadata("x".repeat(METADATA_LIMITS.bytes + 1)).ok, false);
});

Deno.test("metadata off: the header is ignored", async () => {
  const p = headersPlugin({ metadataHeader: false });
  const r = requestCtx(undefined, { headers: { "x-gateway-metadata": "{oops" } });
  assert.equal(await p.begin!(r), undefined);
  assert.deepEqual(r.metadata, {});
});

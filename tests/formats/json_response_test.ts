import assert from "node:assert/strict";
import { jsonResponse, jsonTextResponse, withExtra } from "../../src/formats/json_response.ts";

Deno.test("jsonResponse: a 200 JSON body with the given headers, application/json unless named", async () => {
  const res = jsonResponse({ a: 1 }, { "x-request-id": "r1" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("x-request-id"), "r1");
  assert.deepEqual(await res.json(), { a: 1 });
  const typed = jsonResponse([], { "content-type": "application/json; charset=utf-8" });
  assert.equal(typed.headers.get("content-type"), "application/json; charset=utf-8");
});

Deno.test("jsonTextResponse: the given JSON text as a 200 JSON answer", async () => {
  const res = jsonTextResponse('{"a":1}', { "x-request-id": "r1" });
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("x-request-id"), "r1");
  assert.equal(await res.text(), '{"a":1}');
});

Deno.test("withExtra: one field spliced into an object's own text, the same as spreading it in", () => {
  const text = ' {\n  "id": "c1",\n  "choices": [{"index": 0}]\n}\n';
  const value = JSON.parse(text);
  const spliced = withExtra(text, value, "extra_fields", { provider: "p", attempts: [] });
  assert.ok(spliced);
  assert.deepEqual(JSON.parse(spliced), {
    ...value,
    extra_fields: { provider: "p", attempts: [] },
  });
  assert.equal(withExtra('{"extra_fields":1}', { extra_fields: 1 }, "extra_fields", 2), undefined);
  assert.equal(withExtra("{}", {}, "extra_fields", 2), undefined, "no field to put a comma after");
  assert.equal(withExtra("[1]", [1], "extra_fields", 2), undefined);
});

import assert from "node:assert/strict";
import { jsonResponse } from "../../src/formats/json_response.ts";

Deno.test("jsonResponse: a 200 JSON body with the given headers, application/json unless named", async () => {
  const res = jsonResponse({ a: 1 }, { "x-request-id": "r1" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("x-request-id"), "r1");
  assert.deepEqual(await res.json(), { a: 1 });
  const typed = jsonResponse([], { "content-type": "application/json; charset=utf-8" });
  assert.equal(typed.headers.get("content-type"), "application/json; charset=utf-8");
});

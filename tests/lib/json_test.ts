import assert from "node:assert/strict";
import { isObject, parseObject } from "../../src/lib/json.ts";

Deno.test("isObject: JSON objects only, not null or arrays", () => {
  assert.equal(isObject({}), true);
  assert.equal(isObject({ a: 1 }), true);
  for (const v of [null, undefined, [], [1], "x", 1, true]) assert.equal(isObject(v), false);
});

Deno.test("parseObject decodes objects; anything else, invalid JSON included, is undefined", () => {
  assert.deepEqual(parseObject('{"city":"Paris"}'), { city: "Paris" });
  for (const text of ["", "[1]", "null", '"s"', "1", '{"cut":', "not json"]) {
    assert.equal(parseObject(text), undefined, text);
  }
});

import assert from "node:assert/strict";
import {
  errorCodeStatus,
  nonEmptyString,
  num,
  parseStreamJson,
  parseStreamObject,
  readErrorBody,
  sourceOf,
  truncate,
  withSource,
} from "../../src/providers/upstream_json.ts";

Deno.test("truncate marks a cut with an ellipsis", () => {
  assert.equal(truncate("abcdef", 3), "abc…");
  assert.equal(truncate("abc", 3), "abc");
});

Deno.test("num and nonEmptyString keep only what they name", () => {
  assert.equal(num(7), 7);
  assert.equal(num("7"), 0);
  assert.equal(nonEmptyString("x"), "x");
  assert.equal(nonEmptyString(""), undefined);
  assert.equal(nonEmptyString(1), undefined);
});

Deno.test("a garbled stream event is a SyntaxError naming the family and the text", () => {
  assert.deepEqual(parseStreamJson("openai", "[1]"), [1]);
  assert.throws(
    () => parseStreamJson("openai", "{oops"),
    (e) => e instanceof SyntaxError && e.message === "openai: invalid JSON in stream: {oops",
  );
  const long = `{${"x".repeat(300)}`;
  assert.throws(
    () => parseStreamObject("cohere", long),
    (e) => e instanceof SyntaxError && e.message.endsWith(`${long.slice(0, 200)}…`),
  );
  assert.deepEqual(parseStreamObject("gemini", '{"a":1}'), { a: 1 });
  assert.throws(
    () => parseStreamObject("gemini", "[1]"),
    (e) => e instanceof SyntaxError && e.message === "gemini: stream event is not an object",
  );
});

Deno.test("readErrorBody: the reader gets the JSON and a fallback; other bodies are the fallback", () => {
  const read = (raw: unknown, fallback: string) => ({
    message: `${JSON.stringify(raw)}|${fallback}`,
  });
  assert.deepEqual(readErrorBody(400, '{"e":1}', read), { message: '{"e":1}|{"e":1}' });
  assert.deepEqual(readErrorBody(502, "<html>Bad gateway</html>", read), {
    message: "<html>Bad gateway</html>",
  });
  assert.deepEqual(readErrorBody(503, "  ", read), { message: "HTTP 503" });
  assert.equal(readErrorBody(500, "x".repeat(600), read).message.length, 501);
});

Deno.test("errorCodeStatus reads an HTTP status from error.code, nothing else", () => {
  assert.equal(errorCodeStatus({ error: { code: 429 } }), 429);
  assert.equal(errorCodeStatus({ error: { code: "503" } }), 503);
  assert.equal(errorCodeStatus({ error: { code: 200 } }), undefined);
  assert.equal(errorCodeStatus({ error: { code: "rate_limited" } }), undefined);
  assert.equal(errorCodeStatus({ error: "x" }), undefined);
  assert.equal(errorCodeStatus([{ error: { code: 500 } }]), undefined);
});

Deno.test("withSource/sourceOf: the exact text of an unchanged decoded object, per object", () => {
  const text = '{"a": 1,  "b":[2]}';
  const value = withSource(JSON.parse(text), text);
  assert.equal(sourceOf(value), text);
  assert.equal(sourceOf({ a: 1, b: [2] }), undefined, "an equal object decoded elsewhere has none");
});

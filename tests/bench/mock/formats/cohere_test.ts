import assert from "node:assert/strict";
import { completionText } from "../../../../bench/mock/mod.ts";
import { embedding } from "../../../../bench/mock/formats/mod.ts";
import { drain, parseSse, post, withMock } from "./_helpers.ts";

const BODY = {
  model: "command-a",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: [{ type: "text", text: "Say hello please" }] },
  ],
};
const USAGE = {
  billed_units: { input_tokens: 7, output_tokens: 16 },
  tokens: { input_tokens: 7, output_tokens: 16 },
};

Deno.test("cohere v2 chat JSON: id, finish_reason, message content parts, usage", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/c1/v2/chat", BODY);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      id: "chat_c1_1",
      finish_reason: "COMPLETE",
      message: { role: "assistant", content: [{ type: "text", text: completionText("c1") }] },
      usage: USAGE,
    });
  });
});

Deno.test("cohere v2 chat stream: the documented event sequence, type repeated in data", async () => {
  await withMock(async (mock) => {
    const res = await post(mock, "/c1/v2/chat", { ...BODY, stream: true });
    assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
    const frames = parseSse(await res.text());
    assert.deepEqual(frames.map((f) => f.event), [
      "message-start",
      "content-start",
      "content-delta",
      "content-delta",
      "content-delta",
      "content-delta",
      "content-end",
      "message-end",
    ]);
    const data = frames.map((f) => JSON.parse(f.data));
    assert.ok(frames.every((f, i) => data[i].type === f.event));
    assert.deepEqual(data[0], {
      type: "message-start",
      id: "chat_c1_1",
      delta: { message: { role: "assistant" } },
    });
    assert.deepEqual(data[1].delta, { message: { content: { type: "text", text: "" } } });
    const text = data.slice(2, 6).map((d) => d.delta.message.content.text).join("");
    assert.equal(text, completionText("c1"));
    assert.deepEqual(data[6], { type: "content-end", index: 0 });
    assert.deepEqual(data[7].delta, { finish_reason: "COMPLETE", usage: USAGE });
  });
});

Deno.test("cohere v2 embed: vectors per requested type, texts echoed, billed tokens", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, "/c1/v2/embed", {
      model: "embed-v4.0",
      texts: ["hello", "goodbye"],
      input_type: "search_document",
      embedding_types: ["float", "int8", "ubinary"],
      output_dimension: 8,
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.texts, ["hello", "goodbye"]);
    assert.equal(body.response_type, "embeddings_by_type");
    assert.deepEqual(body.meta.billed_units, { input_tokens: 3 });
    assert.deepEqual(body.embeddings.float, [embedding("hello", 8), embedding("goodbye", 8)]);
    const int8 = body.embeddings.int8[0];
    assert.deepEqual(int8, embedding("hello", 8).map((v) => Math.round(v * 127) + 0));
    // 8 dimensions pack into one byte of sign bits, the first dimension in the highest bit.
    const bits = embedding("hello", 8).reduce((b, v, i) => b | (v > 0 ? 0x80 >> i : 0), 0);
    assert.deepEqual(body.embeddings.ubinary[0], [bits]);

    res = await post(mock, "/c1/v2/embed", { model: "embed-v4.0", texts: ["x"] });
    assert.equal(res.status, 400);
    assert.match((await res.json()).message, /input_type/);
    assert.equal(mock.hits("c1"), 2);
  });
});

Deno.test("cohere errors: {id, message}; 429 rate limit, 402 billing limit, 400 validation", async () => {
  await withMock(async (mock) => {
    let res = await post(mock, "/c1/v2/chat", { messages: [] });
    assert.equal(res.status, 400);
    let body = await res.json();
    assert.deepEqual(Object.keys(body).sort(), ["id", "message"]);
    assert.match(body.message, /^invalid request: .*model/);

    mock.setFaults("c1", [
      { kind: "rate_limit", retryAfterSec: 9, times: 1 },
      { kind: "quota", times: 1 },
      { kind: "status", status: 498, message: "invalid token", times: 1 },
    ]);
    res = await post(mock, "/c1/v2/chat", BODY);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "9");
    assert.match((await res.json()).message, /per minute request limit/);
    res = await post(mock, "/c1/v2/chat", BODY);
    assert.equal(res.status, 402);
    assert.match((await res.json()).message, /billing/);
    res = await post(mock, "/c1/v2/chat", BODY);
    assert.equal(res.status, 498);
    body = await res.json();
    assert.equal(body.message, "invalid token");
  });
});

Deno.test("cohere cut stream: deltas, then a broken connection with no message-end", async () => {
  await withMock(async (mock) => {
    mock.setFaults("c1", [{ kind: "cut", afterChunks: 3 }]);
    const { text, error } = await drain(await post(mock, "/c1/v2/chat", { ...BODY, stream: true }));
    assert.ok(error);
    const events = parseSse(text).map((f) => f.event);
    assert.deepEqual(events.slice(-2), ["content-delta", "content-delta"]);
    assert.ok(!events.includes("message-end") && !events.includes("content-end"));
  });
});

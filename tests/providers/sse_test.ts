import assert from "node:assert/strict";
import { encodeSse, parseSse, type SseEvent } from "../../src/providers/sse.ts";
import { bodyOf, fixtureText } from "./fixtures/load.ts";

async function collect(body: ReadableStream<Uint8Array>, signal?: AbortSignal) {
  const out: SseEvent[] = [];
  for await (const e of parseSse(body, signal)) out.push(e);
  return out;
}

Deno.test("parseSse reads data, event and id fields; ids persist like the spec says", async () => {
  const text = "event: first\nid: 1\ndata: a\n\ndata: b\n\nevent: third\ndata:c\n\n";
  assert.deepEqual(await collect(bodyOf(text)), [
    { event: "first", id: "1", data: "a" },
    { id: "1", data: "b" },
    { event: "third", id: "1", data: "c" },
  ]);
});

Deno.test("parseSse joins multi-line data with \\n and strips only one leading space", async () => {
  const text = "data: line one\ndata:  two spaces\ndata\ndata:\n\n";
  assert.deepEqual(await collect(bodyOf(text)), [{ data: "line one\n two spaces\n\n" }]);
});

Deno.test("parseSse accepts \\n, \\r\\n and \\r line endings, mixed", async () => {
  const text = "data: lf\n\ndata: crlf\r\n\r\ndata: cr\r\rdata: x\r\ndata: y\n\n";
  assert.deepEqual((await collect(bodyOf(text))).map((e) => e.data), ["lf", "crlf", "cr", "x\ny"]);
});

Deno.test("parseSse: a \\r\\n split across chunks is one line break, not two", async () => {
  // If "\r" | "\n" counted twice, the blank line would end the event after "a".
  const text = "data: a\r\ndata: b\r\n\r\n";
  for (let size = 1; size <= text.length; size++) {
    assert.deepEqual(await collect(bodyOf(text, size)), [{ data: "a\nb" }], `size ${size}`);
  }
});

Deno.test("parseSse skips comments and events that carry no data", async () => {
  const text = ": keep-alive\n\nevent: ping\n\nretry: 1000\nfoo: bar\ndata: real\n\n";
  assert.deepEqual(await collect(bodyOf(text)), [{ data: "real" }]);
});

Deno.test("parseSse gives the same events whatever the chunk boundaries (multibyte UTF-8)", async () => {
  const text = await fixtureText("./anthropic/stream.sse");
  const whole = await collect(bodyOf(text));
  assert.equal(whole.length, 8);
  assert.match(whole[4].data, /wörld ✓/);
  for (const size of [1, 2, 3, 5, 64]) assert.deepEqual(await collect(bodyOf(text, size)), whole);
});

Deno.test("parseSse strips a leading byte-order mark", async () => {
  assert.deepEqual(await collect(bodyOf("\uFEFFdata: x\n\n", 1)), [{ data: "x" }]);
});

Deno.test("parseSse flushes a final event that lacks the closing blank line", async () => {
  assert.deepEqual(await collect(bodyOf("data: a\n\ndata: [DONE]")), [
    { data: "a" },
    { data: "[DONE]" },
  ]);
  assert.deepEqual(await collect(bodyOf("data: [DONE]\n")), [{ data: "[DONE]" }]);
  assert.deepEqual(await collect(bodyOf("event: only-a-name\n")), []);
});

function endlessBody(): { body: ReadableStream<Uint8Array>; cancelled: Promise<unknown> } {
  const { promise, resolve } = Promise.withResolvers<unknown>();
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new TextEncoder().encode("data: tick\n\n"));
      return new Promise((r) => setTimeout(r, 1));
    },
    cancel: resolve,
  });
  return { body, cancelled: promise };
}

Deno.test("parseSse cancels the upstream body when the consumer stops early", async () => {
  const { body, cancelled } = endlessBody();
  for await (const e of parseSse(body)) {
    assert.equal(e.data, "tick");
    break;
  }
  await cancelled;
});

Deno.test("parseSse throws the abort reason and cancels the body when the signal aborts", async () => {
  const { body, cancelled } = endlessBody();
  const ac = new AbortController();
  const reason = new DOMException("ttft", "TimeoutError");
  let seen = 0;
  await assert.rejects(async () => {
    for await (const _ of parseSse(body, ac.signal)) if (++seen === 2) ac.abort(reason);
  }, (err) => err === reason);
  assert.equal(seen, 2);
  assert.equal(await cancelled, reason);
});

Deno.test("parseSse refuses to start on an already aborted signal", async () => {
  const ac = new AbortController();
  ac.abort(new Error("gone"));
  await assert.rejects(() => collect(bodyOf("data: x\n\n"), ac.signal), /gone/);
});

Deno.test("encodeSse writes one data line per line of text and parses back", async () => {
  assert.equal(encodeSse('{"a":1}'), 'data: {"a":1}\n\n');
  assert.equal(encodeSse("x\ny", "error"), "event: error\ndata: x\ndata: y\n\n");
  const text = encodeSse("one\r\ntwo", "msg") + encodeSse("[DONE]");
  assert.deepEqual(await collect(bodyOf(text)), [
    { event: "msg", data: "one\ntwo" },
    { data: "[DONE]" },
  ]);
});

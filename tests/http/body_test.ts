import assert from "node:assert/strict";
import { readBody } from "../../src/http/body.ts";

const enc = new TextEncoder();

/** A request whose body arrives in the given pieces, with no content-length (chunked). */
function chunked(parts: Uint8Array[], headers: HeadersInit = {}) {
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (pulled < parts.length) c.enqueue(parts[pulled++]);
      else c.close();
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const req = new Request("http://gw/v1/chat/completions", { method: "POST", body, headers });
  return { req, pulled: () => pulled, cancelled: () => cancelled };
}

Deno.test("a body within the limit is read as text", async () => {
  const req = new Request("http://gw/", { method: "POST", body: '{"model":"a/b"}' });
  assert.deepEqual(await readBody(req, 1024), { ok: true, text: '{"model":"a/b"}' });
});

Deno.test("a request without a body reads as empty text", async () => {
  assert.deepEqual(await readBody(new Request("http://gw/", { method: "POST" }), 10), {
    ok: true,
    text: "",
  });
});

Deno.test("exactly the limit is accepted, one byte more is 413", async () => {
  const at = await readBody(
    new Request("http://gw/", { method: "POST", body: "x".repeat(16) }),
    16,
  );
  assert.deepEqual(at, { ok: true, text: "x".repeat(16) });
  const over = await readBody(
    new Request("http://gw/", { method: "POST", body: "x".repeat(17) }),
    16,
  );
  assert.equal(over.ok, false);
  if (over.ok) return;
  assert.equal(over.status, 413);
  assert.equal(over.code, "request_too_large");
  assert.match(over.message, /16-byte limit \(limits\.maxBodyBytes\)/);
});

Deno.test("a declared content-length over the limit is refused without reading the body", async () => {
  const r = chunked([enc.encode("x".repeat(10))], { "content-length": "1000000" });
  const res = await readBody(r.req, 100);
  assert.equal(res.ok, false);
  if (!res.ok) assert.equal(res.status, 413);
  assert.equal(r.pulled(), 0);
  await r.req.body?.cancel();
});

Deno.test("a chunked body is cut off and cancelled as soon as it passes the limit", async () => {
  const parts = Array.from({ length: 100 }, () => enc.encode("y".repeat(10)));
  const r = chunked(parts);
  const res = await readBody(r.req, 55);
  assert.equal(res.ok, false);
  if (!res.ok) assert.equal(res.status, 413);
  assert.ok(r.pulled() <= 7, `read ${r.pulled()} chunks past the limit`);
  assert.equal(r.cancelled(), true);
});

Deno.test("multi-byte characters split across chunks are reassembled", async () => {
  const bytes = enc.encode('{"content":"héllo → 世界 🎉"}');
  const parts = Array.from(bytes, (b) => new Uint8Array([b]));
  const res = await readBody(chunked(parts).req, 1024);
  assert.deepEqual(res, { ok: true, text: '{"content":"héllo → 世界 🎉"}' });
});

Deno.test("invalid UTF-8 is a 400 invalid_encoding, not replacement characters", async () => {
  for (const bytes of [new Uint8Array([0x7b, 0xff, 0x7d]), new Uint8Array([0xe4, 0xb8])]) {
    const res = await readBody(new Request("http://gw/", { method: "POST", body: bytes }), 100);
    assert.equal(res.ok, false);
    if (res.ok) return;
    assert.equal(res.status, 400);
    assert.equal(res.code, "invalid_encoding");
    assert.match(res.message, /not valid UTF-8/);
  }
});

Deno.test("a body after an invalid one decodes whole (the shared decoder keeps no state)", async () => {
  // A truncated multibyte sequence, then a valid body that begins with a continuation-free byte.
  const bad = await readBody(
    new Request("http://gw/", { method: "POST", body: new Uint8Array([0xe4, 0xb8]) }),
    100,
  );
  assert.equal(bad.ok, false);
  const good = await readBody(
    new Request("http://gw/", { method: "POST", body: enc.encode('{"a":"世界"}') }),
    100,
  );
  assert.deepEqual(good, { ok: true, text: '{"a":"世界"}' });
});

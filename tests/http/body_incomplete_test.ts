// A body that breaks off (the client hung up mid-upload) is a 400, not an exception that would
// surface as a 500 "internal error" with an error log line.
import assert from "node:assert/strict";
import { readBody } from "../../src/http/body.ts";

Deno.test("a body whose stream breaks mid-way reads as a 400 incomplete_body", async () => {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent++ === 0) c.enqueue(new TextEncoder().encode('{"model":"a/'));
      else c.error(new Error("connection reset by peer"));
    },
  });
  const req = new Request("http://gw/v1/chat/completions", { method: "POST", body });
  const r = await readBody(req, 1024);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.status, 400);
  assert.equal(r.code, "incomplete_body");
  assert.match(r.message, /ended before it was complete/);
});

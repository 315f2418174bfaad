import assert from "node:assert/strict";
import { smallReader } from "../../src/lib/small_reads.ts";

/** A byte stream (as every fetch() body in Deno is) that enqueues `parts`. */
function byteStream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    type: "bytes",
    start(ctl) {
      for (const p of parts) ctl.enqueue(p);
      ctl.close();
    },
  });
}

async function readAll(body: ReadableStream<Uint8Array>, size: number) {
  const r = smallReader(body, size);
  const text: string[] = [];
  const sizes = new Set<number>();
  const decoder = new TextDecoder();
  while (true) {
    const n = await r.read();
    if (n.done) break;
    sizes.add(n.value.buffer.byteLength);
    text.push(decoder.decode(n.value, { stream: true }));
  }
  r.releaseLock();
  return { text: text.join(""), sizes: [...sizes] };
}

Deno.test("smallReader: a byte stream is read through one small buffer, bytes intact", async () => {
  const enc = new TextEncoder();
  const parts = [
    enc.encode("data: one\n\n"),
    enc.encode("x".repeat(100)),
    enc.encode("data: é\n\n"),
  ];
  const { text, sizes } = await readAll(byteStream(parts), 16);
  assert.equal(
    text,
    "data: one\n\n" + "x".repeat(100) + "data: é\n\n",
    "a part larger than the buffer takes several reads",
  );
  // (Each read transfers the buffer, so its object changes; its memory and size do not.)
  assert.deepEqual(sizes, [16], "every read into the 16-byte buffer, no 64 KiB one");
});

Deno.test("smallReader: a stream that is not a byte stream is read as before", async () => {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(ctl) {
      ctl.enqueue(enc.encode("a"));
      ctl.enqueue(enc.encode("b"));
      ctl.close();
    },
  });
  assert.equal((await readAll(body, 0)).text, "ab");
});

Deno.test("smallReader: cancel cancels the body", async () => {
  let reason: unknown;
  const body = new ReadableStream<Uint8Array>({
    type: "bytes",
    cancel(r) {
      reason = r;
    },
  });
  const r = smallReader(body);
  await r.cancel("client gone");
  assert.equal(reason, "client gone");
});

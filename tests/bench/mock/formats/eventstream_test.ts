import assert from "node:assert/strict";
import { crc32, encodeEvent, encodeMessage } from "../../../../bench/mock/formats/mod.ts";
import { crc32Bitwise, decodeEventStream, json } from "./_helpers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const word = (m: Uint8Array, at: number) => new DataView(m.buffer).getUint32(at);

Deno.test("crc32 is gzip's CRC32: the standard check value and a bitwise reference", () => {
  assert.equal(crc32(bytes("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
  const random = crypto.getRandomValues(new Uint8Array(1000));
  assert.equal(crc32(random), crc32Bitwise(random));
});

Deno.test("encodeMessage matches published known-answer frames byte for byte", () => {
  // The AWS event-stream frames of payload {"foo": "bar"}, without and with one string header,
  // as independent encoders document them: lengths, then both CRCs.
  const plain = encodeMessage({}, bytes('{"foo": "bar"}'));
  assert.deepEqual([plain.length, word(plain, 0), word(plain, 4)], [30, 30, 0]);
  assert.deepEqual([word(plain, 8), word(plain, 26)], [0xbaf2f68a, 0xae7258e4]);
  const typed = encodeMessage({ "content-type": "application/json" }, bytes('{"foo": "bar"}'));
  assert.deepEqual([typed.length, word(typed, 4)], [62, 32]);
  assert.deepEqual([word(typed, 8), word(typed, 58)], [0x405df946, 0x6fa2bf3b]);
});

Deno.test("encodeEvent: the three string headers Bedrock sends, a JSON payload, valid CRCs", () => {
  const frame = encodeEvent("contentBlockDelta", { contentBlockIndex: 0, delta: { text: "hé" } });
  const { messages, rest } = decodeEventStream(frame);
  assert.equal(rest, 0);
  assert.equal(messages.length, 1);
  assert.deepEqual(messages[0].headers, {
    ":event-type": "contentBlockDelta",
    ":content-type": "application/json",
    ":message-type": "event",
  });
  assert.deepEqual(json(messages[0]), { contentBlockIndex: 0, delta: { text: "hé" } });
});

Deno.test("a flipped byte anywhere fails a CRC check; a cut frame is left over, not decoded", () => {
  const frame = encodeEvent("messageStop", { stopReason: "end_turn" });
  for (const at of [2, 20, frame.length - 1]) {
    const bad = frame.slice();
    bad[at] ^= 1;
    assert.throws(() => decodeEventStream(bad), /CRC mismatch/);
  }
  const two = new Uint8Array([...frame, ...frame.subarray(0, 20)]);
  const { messages, rest } = decodeEventStream(two);
  assert.equal(messages.length, 1);
  assert.equal(rest, 20);
});

// The event-stream codec against AWS's published event-stream test vectors (awslabs/
// aws-c-event-stream, also shipped with @smithy/eventstream-codec as TestVectors.fixture.ts), plus
// round trips, frames split at every byte, and corruption that must be refused.
import assert from "node:assert/strict";
import {
  crc32,
  decodeMessage,
  encodeMessage,
  EventStreamDecoder,
  type EventStreamMessage,
  readEventStream,
  stringHeader,
} from "../../../src/providers/bedrock/eventstream.ts";

const fromHex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const FOO_BAR = "{'foo':'bar'}";

const V = {
  empty_message: fromHex("000000100000000005c248eb7d98c8ff"),
  payload_no_headers: fromHex("0000001d00000000fd528c5a7b27666f6f273a27626172277dc3653936"),
  int32_header: fromHex(
    "0000002d0000001041c424b80a6576656e742d74797065040000a00c7b27666f6f273a27626172277d36f480a0",
  ),
  payload_one_str_header: fromHex(
    "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e" +
      "7b27666f6f273a27626172277d8d9c08b1",
  ),
  all_headers: fromHex(
    "000000cc000000af0fae64ca0a6576656e742d74797065040000a00c0c636f6e74656e742d74797065070010" +
      "6170706c69636174696f6e2f6a736f6e0a626f6f6c2066616c73650109626f6f6c2074727565000462797465" +
      "02cf08627974652062756606001449276d2061206c6974746c6520746561706f74210974696d657374616d70" +
      "080000000000845fed05696e74313603002a05696e7436340500000000028757b20475756964090102030405" +
      "060708090a0b0c0d0e0f107b27666f6f273a27626172277daba5f10c",
  ),
};

/** A copy of `bytes` with one byte replaced, as the suite's corrupted_* vectors are built. */
const corrupt = (bytes: Uint8Array, at: number, value: number) => {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
};

Deno.test("eventstream: CRC32 is the GZIP one", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("eventstream: AWS vectors decode (empty, payload only, int32 and string headers)", () => {
  const empty = decodeMessage(V.empty_message);
  assert.deepEqual(empty.headers, {});
  assert.equal(empty.payload.length, 0);

  assert.equal(text(decodeMessage(V.payload_no_headers).payload), FOO_BAR);

  const int32 = decodeMessage(V.int32_header);
  assert.deepEqual(int32.headers, { "event-type": { type: "integer", value: 40972 } });
  assert.equal(text(int32.payload), FOO_BAR);

  const one = decodeMessage(V.payload_one_str_header);
  assert.equal(stringHeader(one, "content-type"), "application/json");
  assert.equal(text(one.payload), FOO_BAR);
});

Deno.test("eventstream: AWS all_headers vector decodes every header value type", () => {
  const m = decodeMessage(V.all_headers);
  assert.deepEqual(m.headers, {
    "event-type": { type: "integer", value: 40972 },
    "content-type": { type: "string", value: "application/json" },
    "bool false": { type: "boolean", value: false },
    "bool true": { type: "boolean", value: true },
    byte: { type: "byte", value: -49 },
    "byte buf": { type: "binary", value: new TextEncoder().encode("I'm a little teapot!") },
    timestamp: { type: "timestamp", value: new Date(8675309) },
    int16: { type: "short", value: 42 },
    int64: { type: "long", value: 42424242n },
    uuid: { type: "uuid", value: "01020304-0506-0708-090a-0b0c0d0e0f10" },
  });
  assert.equal(text(m.payload), FOO_BAR);
});

Deno.test("eventstream: the encoder reproduces the AWS vectors byte for byte", () => {
  assert.deepEqual(encodeMessage({ headers: {}, payload: "" }), V.empty_message);
  assert.deepEqual(encodeMessage({ headers: {}, payload: FOO_BAR }), V.payload_no_headers);
  assert.deepEqual(
    encodeMessage({ headers: { "content-type": "application/json" }, payload: FOO_BAR }),
    V.payload_one_str_header,
  );
  const all = decodeMessage(V.all_headers);
  assert.deepEqual(encodeMessage(all), V.all_headers);
});

Deno.test("eventstream: AWS corrupted_* vectors are refused", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["corrupted_length", corrupt(V.payload_one_str_header, 3, 62), /prelude CRC/],
    ["corrupted_header_len", corrupt(V.payload_one_str_header, 7, 33), /prelude CRC/],
    ["corrupted_headers", corrupt(V.payload_one_str_header, 45, 97), /message CRC/],
    ["corrupted_payload", corrupt(V.payload_no_headers, 12, 91), /message CRC/],
  ];
  for (const [name, bytes, why] of cases) {
    assert.throws(() => decodeMessage(bytes), (e: Error) => {
      assert.ok(e instanceof SyntaxError, name);
      assert.match(e.message, why, name);
      return true;
    });
    assert.throws(() => new EventStreamDecoder().push(bytes), SyntaxError, name);
  }
});

Deno.test("eventstream: frames split at every possible byte boundary decode the same", () => {
  const frames = [
    encodeMessage({
      headers: { ":message-type": "event", ":event-type": "messageStart" },
      payload: '{"role":"assistant"}',
    }),
    V.all_headers,
    encodeMessage({ headers: { ":event-type": "metadata" }, payload: "ü€😀" }),
  ];
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    all.set(f, at);
    at += f.length;
  }
  const expected = frames.map(decodeMessage);
  for (let cut = 0; cut <= all.length; cut++) {
    for (const step of [1, 7]) {
      const d = new EventStreamDecoder();
      const got: EventStreamMessage[] = [...d.push(all.subarray(0, cut))];
      for (let i = cut; i < all.length; i += step) got.push(...d.push(all.subarray(i, i + step)));
      d.end();
      assert.deepEqual(got, expected, `cut at ${cut}, step ${step}`);
    }
  }
});

Deno.test("eventstream: a stream that ends inside a frame throws", async () => {
  const frame = encodeMessage({ headers: { ":event-type": "x" }, payload: "{}" });
  const body = ReadableStream.from([frame, frame.subarray(0, 20)]);
  const seen: EventStreamMessage[] = [];
  await assert.rejects(async () => {
    for await (const m of readEventStream(body)) seen.push(m);
  }, /stream ended inside a frame/);
  assert.equal(seen.length, 1, "the complete frame still came through first");
});

Deno.test("eventstream: readEventStream yields messages and honours an abort", async () => {
  const frame = (n: number) => encodeMessage({ headers: { n: String(n) }, payload: `p${n}` });
  const collected: string[] = [];
  for await (const m of readEventStream(ReadableStream.from([frame(1), frame(2)]))) {
    collected.push(`${stringHeader(m, "n")}:${text(m.payload)}`);
  }
  assert.deepEqual(collected, ["1:p1", "2:p2"]);

  const ctl = new AbortController();
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull: (c) => c.enqueue(frame(0)),
    cancel: () => {
      cancelled = true;
    },
  });
  await assert.rejects(async () => {
    for await (const _ of readEventStream(endless, ctl.signal)) ctl.abort(new Error("stop"));
  }, /stop/);
  assert.ok(cancelled, "the upstream body was cancelled");
});

Deno.test("eventstream: oversized or inconsistent lengths are refused before buffering", () => {
  const huge = new Uint8Array(12);
  const view = new DataView(huge.buffer);
  view.setUint32(0, 64 * 1024 * 1024);
  view.setUint32(8, crc32(huge.subarray(0, 8)));
  assert.throws(() => new EventStreamDecoder().push(huge), /out of range/);
  view.setUint32(0, 20);
  view.setUint32(4, 10);
  view.setUint32(8, crc32(huge.subarray(0, 8)));
  assert.throws(() => new EventStreamDecoder().push(huge), /headers length/);
});

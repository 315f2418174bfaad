// Encoder for the AWS event stream (`application/vnd.amazon.eventstream`), the binary framing
// of Bedrock's ConverseStream. Layout, from AWS's description of the encoding
// (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html and
// https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html), integers big-endian:
//
//   total length u32 | headers length u32 | prelude CRC32 u32     (the 12-byte prelude)
//   headers: name length u8 | name | value type u8 | value (type 7 = string: u16 length | bytes)
//   payload
//   message CRC32 u32 (of everything before it)
//
// Both CRCs are CRC32 as gzip computes it (IEEE 802.3, reflected polynomial 0xEDB88320).

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const encoder = new TextEncoder();
const STRING = 7;

/** One event-stream message with string headers (in the given order) and a payload. */
export function encodeMessage(headers: Record<string, string>, payload: Uint8Array): Uint8Array {
  const encoded = Object.entries(headers).map(([name, value]) => {
    const n = encoder.encode(name);
    const v = encoder.encode(value);
    if (n.length > 255 || v.length > 0xffff) {
      throw new Error(`event-stream header ${name}: too long`);
    }
    const h = new Uint8Array(1 + n.length + 1 + 2 + v.length);
    h[0] = n.length;
    h.set(n, 1);
    h[1 + n.length] = STRING;
    new DataView(h.buffer).setUint16(2 + n.length, v.length);
    h.set(v, 4 + n.length);
    return h;
  });
  const headersLength = encoded.reduce((sum, h) => sum + h.length, 0);
  const total = 12 + headersLength + payload.length + 4;
  const message = new Uint8Array(total);
  const view = new DataView(message.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(message.subarray(0, 8)));
  let at = 12;
  for (const h of encoded) {
    message.set(h, at);
    at += h.length;
  }
  message.set(payload, at);
  view.setUint32(total - 4, crc32(message.subarray(0, total - 4)));
  return message;
}

/** An `event` message: `:event-type`, `:content-type` application/json, `:message-type` event. */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return encodeMessage(
    { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" },
    encoder.encode(JSON.stringify(payload)),
  );
}

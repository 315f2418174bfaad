// application/vnd.amazon.eventstream: the binary framing of Bedrock's streaming answers
// (ConverseStream, InvokeModelWithResponseStream). An incremental decoder over a byte stream and
// an encoder, both pure.
//
// Wire format (AWS "Event stream encoding", e.g. docs.aws.amazon.com/lexv2/latest/dg/
// event-stream-encoding.html and docs.aws.amazon.com/transcribe/latest/dg/event-stream.html;
// smithy.io/2.0/aws/amazon-eventstream.html), all integers big-endian:
//
//   total length  u32   the whole message, these 4 bytes and both CRCs included
//   headers length u32
//   prelude CRC   u32   CRC32 of the 8 bytes above
//   headers       …     repeated: name length u8, name (UTF-8), value type u8, value
//   payload       …     total − headers − 16 bytes
//   message CRC   u32   CRC32 of everything before it
//
// CRC32 is the GZIP/ISO-HDLC one (reflected polynomial 0xEDB88320). Header value types:
// 0 true, 1 false (no value bytes), 2 byte (i8), 3 short (i16), 4 integer (i32), 5 long (i64),
// 6 bytes (u16 length + bytes), 7 string (u16 length + UTF-8), 8 timestamp (i64 ms since the
// epoch), 9 uuid (16 bytes).

export type HeaderValue =
  | { type: "boolean"; value: boolean }
  | { type: "byte"; value: number }
  | { type: "short"; value: number }
  | { type: "integer"; value: number }
  | { type: "long"; value: bigint }
  | { type: "binary"; value: Uint8Array }
  | { type: "string"; value: string }
  | { type: "timestamp"; value: Date }
  | { type: "uuid"; value: string };

export interface EventStreamMessage {
  headers: Record<string, HeaderValue>;
  payload: Uint8Array;
}

/** What the encoder takes: typed values, or plain strings (type 7). */
export interface EventStreamMessageInput {
  headers: Record<string, HeaderValue | string>;
  payload: Uint8Array | string;
}

/** Larger frames are refused rather than buffered (a corrupt length must not eat memory). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const PRELUDE = 8;
const OVERHEAD = 16; // prelude + prelude CRC + message CRC

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32 (GZIP) of `bytes`; `crc` continues an earlier result. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const utf8 = new TextEncoder();
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A frame that cannot be read: the classifier treats a garbled stream as the upstream's fault. */
function corrupt(why: string): SyntaxError {
  return new SyntaxError(`eventstream: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function uuidString(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function decodeHeaders(bytes: Uint8Array): Record<string, HeaderValue> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, HeaderValue> = {};
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw corrupt("header runs past the headers section");
  };
  while (at < bytes.length) {
    need(1);
    const nameLength = bytes[at++];
    need(nameLength + 1);
    const name = fatalUtf8.decode(bytes.subarray(at, at + nameLength));
    at += nameLength;
    const type = bytes[at++];
    let value: HeaderValue;
    switch (type) {
      case 0:
      case 1:
        value = { type: "boolean", value: type === 0 };
        break;
      case 2:
        need(1);
        value = { type: "byte", value: view.getInt8(at) };
        at += 1;
        break;
      case 3:
        need(2);
        value = { type: "short", value: view.getInt16(at) };
        at += 2;
        break;
      case 4:
        need(4);
        value = { type: "integer", value: view.getInt32(at) };
        at += 4;
        break;
      case 5:
        need(8);
        value = { type: "long", value: view.getBigInt64(at) };
        at += 8;
        break;
      case 6:
      case 7: {
        need(2);
        const length = view.getUint16(at);
        at += 2;
        need(length);
        const raw = bytes.slice(at, at + length);
        at += length;
        value = type === 6
          ? { type: "binary", value: raw }
          : { type: "string", value: fatalUtf8.decode(raw) };
        break;
      }
      case 8:
        need(8);
        value = { type: "timestamp", value: new Date(Number(view.getBigInt64(at))) };
        at += 8;
        break;
      case 9:
        need(16);
        value = { type: "uuid", value: uuidString(bytes.subarray(at, at + 16)) };
        at += 16;
        break;
      default:
        throw corrupt(`unknown header value type ${type} for "${name}"`);
    }
    out[name] = value;
  }
  return out;
}

/** Checks the prelude of a frame and returns its total length. */
function preludeLength(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 12);
  const total = view.getUint32(0);
  const headers = view.getUint32(4);
  if (crc32(bytes.subarray(0, PRELUDE)) !== view.getUint32(8)) {
    throw corrupt("prelude CRC mismatch");
  }
  if (total < OVERHEAD || total > MAX_MESSAGE_BYTES) {
    throw corrupt(`message length ${total} out of range`);
  }
  if (headers > total - OVERHEAD) throw corrupt(`headers length ${headers} exceeds the message`);
  return total;
}

/** Decodes exactly one complete frame; throws SyntaxError on any inconsistency or bad CRC. */
export function decodeMessage(frame: Uint8Array): EventStreamMessage {
  if (frame.length < OVERHEAD) throw corrupt(`frame of ${frame.length} bytes is too short`);
  const total = preludeLength(frame);
  if (total !== frame.length) throw corrupt(`frame says ${total} bytes but has ${frame.length}`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (crc32(frame.subarray(0, total - 4)) !== view.getUint32(total - 4)) {
    throw corrupt("message CRC mismatch");
  }
  const headersLength = view.getUint32(4);
  const headersEnd = 12 + headersLength;
  return {
    headers: decodeHeaders(frame.subarray(12, headersEnd)),
    payload: frame.slice(headersEnd, total - 4),
  };
}

/**
 * Splits arbitrary chunks into frames. Keeps only the bytes of the unfinished frame; checks the
 * prelude CRC as soon as 12 bytes are in, so a corrupt length is caught before buffering.
 */
export class EventStreamDecoder {
  #buf = new Uint8Array(0);
  #len = 0;

  /** Appends bytes and returns every message they complete. */
  push(chunk: Uint8Array): EventStreamMessage[] {
    this.#append(chunk);
    const out: EventStreamMessage[] = [];
    let start = 0;
    while (this.#len - start >= 12) {
      const total = preludeLength(this.#buf.subarray(start, start + 12));
      if (this.#len - start < total) break;
      out.push(decodeMessage(this.#buf.subarray(start, start + total)));
      start += total;
    }
    if (start > 0) {
      this.#buf.copyWithin(0, start, this.#len);
      this.#len -= start;
    }
    return out;
  }

  /** Throws if the stream ended inside a frame. */
  end(): void {
    if (this.#len > 0) throw corrupt(`stream ended inside a frame (${this.#len} bytes left)`);
  }

  #append(chunk: Uint8Array): void {
    const need = this.#len + chunk.length;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.max(need, this.#buf.length * 2, 1024));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk, this.#len);
    this.#len = need;
  }
}

/**
 * Reads messages from a body as they complete. Stops (cancelling the body) when the consumer
 * stops early or `signal` aborts, in which case it throws the signal's reason.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<EventStreamMessage> {
  const reader = body.getReader();
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  const decoder = new EventStreamDecoder();
  let done = false;
  try {
    signal?.throwIfAborted();
    while (true) {
      const read = await reader.read();
      signal?.throwIfAborted();
      if (read.done) {
        done = true;
        decoder.end();
        return;
      }
      yield* decoder.push(read.value);
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** The value of a string header, or undefined when absent or of another type. */
export function stringHeader(m: EventStreamMessage, name: string): string | undefined {
  const h = m.headers[name];
  return h?.type === "string" ? h.value : undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function uuidBytes(uuid: string): Uint8Array {
  const h = uuid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(h)) throw new TypeError(`not a UUID: ${uuid}`);
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(h.slice(i * 2, i * 2 + 2), 16));
}

function encodeHeader(name: string, v: HeaderValue): Uint8Array {
  const nameBytes = utf8.encode(name);
  if (nameBytes.length > 255) throw new RangeError(`header name too long: ${name}`);
  let value: Uint8Array;
  let type: number;
  const fixed = (n: number, set: (d: DataView) => void) => {
    value = new Uint8Array(n);
    set(new DataView(value.buffer));
  };
  switch (v.type) {
    case "boolean":
      type = v.value ? 0 : 1;
      value = new Uint8Array(0);
      break;
    case "byte":
      type = 2;
      fixed(1, (d) => d.setInt8(0, v.value));
      break;
    case "short":
      type = 3;
      fixed(2, (d) => d.setInt16(0, v.value));
      break;
    case "integer":
      type = 4;
      fixed(4, (d) => d.setInt32(0, v.value));
      break;
    case "long":
      type = 5;
      fixed(8, (d) => d.setBigInt64(0, v.value));
      break;
    case "timestamp":
      type = 8;
      fixed(8, (d) => d.setBigInt64(0, BigInt(v.value.getTime())));
      break;
    case "uuid":
      type = 9;
      value = uuidBytes(v.value);
      break;
    case "binary":
    case "string": {
      type = v.type === "binary" ? 6 : 7;
      const raw = v.type === "binary" ? v.value : utf8.encode(v.value);
      if (raw.length > 0xffff) throw new RangeError(`header ${name} value too long`);
      value = new Uint8Array(2 + raw.length);
      new DataView(value.buffer).setUint16(0, raw.length);
      value.set(raw, 2);
      break;
    }
  }
  const out = new Uint8Array(2 + nameBytes.length + value!.length);
  out[0] = nameBytes.length;
  out.set(nameBytes, 1);
  out[1 + nameBytes.length] = type;
  out.set(value!, 2 + nameBytes.length);
  return out;
}

/**
 * An AWS event frame as Bedrock sends them: `:message-type` event, `:event-type`, and a JSON
 * payload with `:content-type` application/json.
 */
export function eventFrame(eventType: string, payload: unknown): Uint8Array<ArrayBuffer> {
  return encodeMessage({
    headers: {
      ":event-type": eventType,
      ":content-type": "application/json",
      ":message-type": "event",
    },
    payload: JSON.stringify(payload),
  });
}

/** A modeled exception frame: `:message-type` exception, `:exception-type`, `{"message"}`. */
export function exceptionFrame(exceptionType: string, message: string): Uint8Array<ArrayBuffer> {
  return encodeMessage({
    headers: {
      ":exception-type": exceptionType,
      ":content-type": "application/json",
      ":message-type": "exception",
    },
    payload: JSON.stringify({ message }),
  });
}

/** One frame. String header values are written as type 7. */
export function encodeMessage(m: EventStreamMessageInput): Uint8Array<ArrayBuffer> {
  const headers = Object.entries(m.headers).map(([name, v]) =>
    encodeHeader(name, typeof v === "string" ? { type: "string", value: v } : v)
  );
  const headersLength = headers.reduce((n, h) => n + h.length, 0);
  const payload = typeof m.payload === "string" ? utf8.encode(m.payload) : m.payload;
  const total = OVERHEAD + headersLength + payload.length;
  if (total > MAX_MESSAGE_BYTES) throw new RangeError(`message of ${total} bytes is too large`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  view.setUint32(4, headersLength);
  view.setUint32(8, crc32(out.subarray(0, PRELUDE)));
  let at = 12;
  for (const h of headers) {
    out.set(h, at);
    at += h.length;
  }
  out.set(payload, at);
  view.setUint32(total - 4, crc32(out.subarray(0, total - 4)));
  return out;
}

// Test helpers for the mock's wire formats: a running mock, requests, SSE and AWS event-stream
// decoding. The decoders are written independently of the mock's encoders, so a test that
// decodes with them checks the bytes, not the encoder against itself.
import { type MockUpstream, startMockUpstream } from "../../../../bench/mock/mod.ts";

export async function withMock(
  fn: (mock: MockUpstream) => Promise<void>,
  opts?: Parameters<typeof startMockUpstream>[0],
): Promise<void> {
  const mock = await startMockUpstream(opts);
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

export function post(
  mock: MockUpstream,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** Reads a body until it ends or breaks; returns the bytes that arrived and the error, if any. */
export async function drainBytes(res: Response): Promise<{ bytes: Uint8Array; error?: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = res.body!.getReader();
  let error: unknown;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  } catch (e) {
    error = e;
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, error };
}

export async function drain(res: Response): Promise<{ text: string; error?: unknown }> {
  const { bytes, error } = await drainBytes(res);
  return { text: new TextDecoder().decode(bytes), error };
}

export interface SseFrame {
  event?: string;
  data: string;
}

/** Splits an SSE body into events; accepts LF and CRLF line ends, as the SSE spec does. */
export function parseSse(text: string): SseFrame[] {
  return text.replaceAll("\r\n", "\n").split("\n\n").filter((block) => block.trim()).map(
    (block) => {
      const frame: SseFrame = { data: "" };
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) frame.event = line.slice(7);
        if (line.startsWith("data: ")) frame.data += line.slice(6);
      }
      return frame;
    },
  );
}

/** CRC32 (gzip's), bit by bit: deliberately not the mock's table-driven version. */
export function crc32Bitwise(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

export interface EventMessage {
  headers: Record<string, string>;
  payload: Uint8Array;
}

/**
 * Decodes AWS event-stream messages, checking both CRCs and that only string headers appear.
 * Throws on a bad CRC; returns what decoded whole, plus the length of a trailing partial frame.
 */
export function decodeEventStream(bytes: Uint8Array): { messages: EventMessage[]; rest: number } {
  const messages: EventMessage[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  let at = 0;
  while (bytes.length - at >= 12) {
    const total = view.getUint32(at);
    const headersLength = view.getUint32(at + 4);
    if (crc32Bitwise(bytes.subarray(at, at + 8)) !== view.getUint32(at + 8)) {
      throw new Error(`prelude CRC mismatch at byte ${at}`);
    }
    if (bytes.length - at < total) break;
    if (crc32Bitwise(bytes.subarray(at, at + total - 4)) !== view.getUint32(at + total - 4)) {
      throw new Error(`message CRC mismatch at byte ${at}`);
    }
    const headers: Record<string, string> = {};
    let h = at + 12;
    const end = h + headersLength;
    while (h < end) {
      const nameLength = bytes[h];
      const name = text.decode(bytes.subarray(h + 1, h + 1 + nameLength));
      const type = bytes[h + 1 + nameLength];
      if (type !== 7) throw new Error(`header ${name}: type ${type}, expected 7 (string)`);
      const valueLength = view.getUint16(h + 2 + nameLength);
      headers[name] = text.decode(
        bytes.subarray(h + 4 + nameLength, h + 4 + nameLength + valueLength),
      );
      h += 4 + nameLength + valueLength;
    }
    messages.push({ headers, payload: bytes.slice(end, at + total - 4) });
    at += total;
  }
  return { messages, rest: bytes.length - at };
}

export const json = (m: EventMessage) => JSON.parse(new TextDecoder().decode(m.payload));

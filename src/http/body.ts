// Reads a request body as UTF-8 text under a size cap, without buffering past the cap.
import type { GatewayError } from "../lib/errors.ts";

export type BodyResult = { ok: true; text: string } | BodyError;
type BodyError = GatewayError & { status: 400 | 413; type: "invalid_request_error"; param: null };

const tooLarge = (maxBytes: number): BodyResult => ({
  ok: false,
  status: 413,
  type: "invalid_request_error",
  param: null,
  code: "request_too_large",
  message: `The request body is larger than the ${maxBytes}-byte limit (limits.maxBodyBytes).`,
});

export async function readBody(req: Request, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > maxBytes) return tooLarge(maxBytes);
  if (!req.body) return { ok: true, text: "" };
  // A declared length within the cap bounds what HTTP framing lets the client send: read it in
  // one go (the runtime's fast path) instead of chunk by chunk.
  if (declared > 0) {
    const bytes = await req.bytes().catch(() => undefined);
    return bytes && bytes.byteLength > maxBytes ? tooLarge(maxBytes) : decode(bytes);
  }
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (true) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      // The client stopped sending mid-body (hung up, or its connection broke): a bad request,
      // not an internal error.
      return INCOMPLETE;
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return tooLarge(maxBytes);
    }
    parts.push(value);
  }
  const bytes = parts.length === 1 ? parts[0] : new Uint8Array(size);
  if (parts.length !== 1) {
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
  }
  return decode(bytes);
}

const INCOMPLETE: BodyResult = {
  ok: false,
  status: 400,
  type: "invalid_request_error",
  param: null,
  code: "incomplete_body",
  message: "The request body ended before it was complete (the client stopped sending).",
};

// One decoder for every body: a whole-buffer decode (no `stream` option) keeps no state.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text of the body, or why it is not; no bytes means the body broke off. */
function decode(bytes: Uint8Array | undefined): BodyResult {
  if (!bytes) return INCOMPLETE;
  try {
    return { ok: true, text: UTF8.decode(bytes) };
  } catch {
    return {
      ok: false,
      status: 400,
      type: "invalid_request_error",
      param: null,
      code: "invalid_encoding",
      message: "The request body is not valid UTF-8.",
    };
  }
}

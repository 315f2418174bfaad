/**
 * @module
 * The seam every inbound wire format implements. A format reads its URL (`target`) and decodes a
 * request body into the canonical {@link ChatRequest} the pipeline runs on (`decode`); it encodes
 * the pipeline's answer back into its own shape: a JSON answer (`encode`), a committed stream
 * (`stream`, framed by the relay's {@link StreamFraming}) and an error as data (`encodeError`).
 * `formatRoute` (./route.ts) runs every format the same way, so a new inbound format (the
 * Responses API, say) is one new folder next to openai/, anthropic/, genai/ and bedrock/.
 *
 * @example A format that takes `{"q": "…"}` and answers `{"a": "…"}`
 * ```ts
 * import assert from "node:assert/strict";
 * import { invalidRequest, notFound } from "../lib/errors.ts";
 * import type { WireFormat } from "./wire_format.ts";
 *
 * const echo: WireFormat<undefined> = {
 *   name: "echo",
 *   target: (req) =>
 *     req.method === "POST"
 *       ? { ok: true, value: undefined }
 *       : notFound("POST only"),
 *   decode: (json) =>
 *     typeof (json as { q?: unknown }).q === "string"
 *       ? {
 *         ok: true,
 *         value: { model: "p/m", messages: [{ role: "user", content: (json as { q: string }).q }] },
 *       }
 *       : invalidRequest("q: required", "q"),
 *   encode: (answer) => Response.json({ a: answer.completion.choices[0].message.content }),
 *   stream: (_out, call) => ({
 *     framing: { push: () => [], end: () => [], failed: () => [] },
 *     headers: { "x-request-id": call.start.requestId },
 *   }),
 *   encodeError: (e) => Response.json({ oops: e.message }, { status: e.status }),
 * };
 *
 * const decoded = await echo.decode({ q: "hi" }, { params: undefined, headers: new Headers() });
 * assert.ok(decoded.ok && decoded.value.messages[0].content === "hi");
 * assert.equal(echo.target(new Request("http://x/", { method: "GET" })).ok, false);
 * ```
 */
import type { CallError, CallStart, ChatOutcome } from "../http/call.ts";
import type { Parsed } from "../http/request.ts";
import type { CommittedStream, StreamFraming } from "../http/stream.ts";
import type { Result } from "../lib/errors.ts";
import type { ChatRequest } from "../openai/types.ts";

/** A completed (non-stream) answer from the pipeline, before a format encodes it. */
export type JsonAnswer = Extract<ChatOutcome, { kind: "json" }>;

/** What a route's URL names before the body is read: the format's params, or why it refuses. */
export type Target<P> = Result<P>;

/** One call as a format's encoders see it. */
export interface FormatCall<P> {
  start: CallStart;
  params: P;
  /** The canonical request the body decoded to. */
  request: ChatRequest;
  /** Milliseconds since the call started, on the gateway's clock. */
  elapsedMs(): number;
}

/** An inbound wire format: decode a request into the canonical form, encode what comes back. */
export interface WireFormat<P = unknown> {
  /** A short name for logs and tests ("openai", "anthropic", …). */
  readonly name: string;
  /** Reads the method and URL; a refusal is answered in this format before the body is read. */
  target(req: Request): Target<P>;
  /**
   * The decoded JSON body → the canonical request, or what is wrong with it (a 400). `caller` is
   * the virtual key's id when keys are on. It may be async for a format that looks up state
   * (the Responses API's previous_response_id).
   */
  decode(
    json: unknown,
    from: { params: P; headers: Headers; caller?: string },
  ): Parsed<ChatRequest> | Promise<Parsed<ChatRequest>>;
  /** A JSON answer (status 200) with the gateway headers in `answer.headers`; may be async. */
  encode(answer: JsonAnswer, call: FormatCall<P>): Response | Promise<Response>;
  /** How a committed stream is framed, and the headers its 200 answer carries. */
  stream(
    out: CommittedStream,
    call: FormatCall<P>,
  ): { framing: StreamFraming; headers: HeadersInit };
  /** An error as data → this format's error answer (status, body, headers, Retry-After). */
  encodeError(e: CallError): Response;
}

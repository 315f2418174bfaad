// POST /anthropic/v1/messages: Anthropic's Messages API, so the official Anthropic SDKs work
// unchanged with `baseURL: "<gateway>/anthropic"`. Any provider can serve it (an OpenAI-format one
// included): the body is translated to the canonical request, and the answer, the stream and the
// errors back to Anthropic's wire format. count_tokens has its own route (./count_tokens.ts);
// anything else under the prefix (models, batches …) is not served yet: it is a 404 in
// Anthropic's shape, so its SDKs raise a NotFoundError with a readable message.
//
// Credentials: the SDKs send `x-api-key` or `Authorization: Bearer …`; both are accepted here and
// checked only by virtual keys (the gateway holds the upstream keys).
import { type CallError, parseFallbacksHeader } from "../../http/call.ts";
import { jsonErrorResponse } from "../../http/errors.ts";
import { notFound } from "../../lib/errors.ts";
import { midStreamMessage, SSE_HEADERS, sseFrame } from "../../http/stream.ts";
import { StreamFailure } from "../../providers/execute.ts";
import type { WireFormat } from "../wire_format.ts";
import { chatToAnthropic } from "./answer.ts";
import { anthropicError, anthropicErrorBody, streamErrorType } from "./errors.ts";
import { anthropicToChat } from "./request.ts";
import { type AnthropicEvent, createAnthropicStreamEncoder } from "./stream.ts";

const PATH = "/anthropic/v1/messages";

/** Anthropic's clients read the request id from `request-id`; ours is also in x-request-id. */
function withRequestId(headers: Record<string, string>): Headers {
  const h = new Headers(headers);
  const id = headers["x-request-id"];
  if (id) h.set("request-id", id);
  return h;
}

/** A gateway error in Anthropic's shape: {"type":"error","error":{"type","message"}}. */
function errorAnswer(e: CallError): Response {
  const { status, type } = anthropicError(e.status, e.type);
  const body = anthropicErrorBody(type, e.message, e.headers["x-request-id"]);
  return jsonErrorResponse(status, body, withRequestId(e.headers), e.retryAfterMs);
}

const frame = (e: AnthropicEvent) => sseFrame(e.data, e.event);

export const anthropicMessages: WireFormat<undefined> = {
  name: "anthropic",
  target(req) {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === PATH) return { ok: true, value: undefined };
    return notFound(`The gateway does not serve ${req.method} ${path}.`);
  },
  decode: (json, { headers }) =>
    anthropicToChat(json, parseFallbacksHeader(headers.get("x-gateway-fallbacks"))),
  encode(out) {
    const headers = withRequestId(out.headers);
    headers.set("content-type", "application/json");
    const message = { ...chatToAnthropic(out.completion), extra_fields: out.extra };
    return new Response(JSON.stringify(message), { status: 200, headers });
  },
  /**
   * A failure after the first event ends the stream with Anthropic's `event: error` and no
   * message_stop, so the SDKs raise instead of returning a truncated message.
   */
  stream(out, { request }) {
    const requestId = out.headers["x-request-id"] ?? "";
    const encoder = createAnthropicStreamEncoder({ id: requestId, model: request.model });
    return {
      framing: {
        push: (chunk) => encoder.push(chunk).map(frame),
        end: () => encoder.finish().map(frame),
        async failed(e) {
          // Anything but a StreamFailure is this route's own (a chunk the encoder cannot
          // express): its message is told as it is, and the upstream, still open, is stopped.
          const f = e instanceof StreamFailure
            ? e.failure
            : { kind: "unknown", message: (e as Error).message, status: undefined };
          if (!(e instanceof StreamFailure)) await out.cancel();
          const type = streamErrorType(f.kind, f.status);
          return [frame({
            event: "error",
            data: anthropicErrorBody(type, midStreamMessage(out.provider, f.message)),
          })];
        },
      },
      headers: withRequestId({ ...SSE_HEADERS, ...out.headers }),
    };
  },
  encodeError: errorAnswer,
};

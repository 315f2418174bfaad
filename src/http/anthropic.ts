// POST /anthropic/v1/messages: Anthropic's Messages API around the shared pipeline, so the
// official Anthropic SDKs work unchanged with `baseURL: "<gateway>/anthropic"`. Any provider
// can serve it (an OpenAI-format one included): the body is translated to the canonical
// request, and the answer, the stream and the errors back to Anthropic's wire format.
import type { Context, Hono } from "hono";
import type { Gateway } from "../gateway.ts";
import { StreamFailure } from "../providers/execute.ts";
import {
  anthropicError,
  anthropicErrorBody,
  streamErrorType,
} from "../formats/anthropic/errors.ts";
import { anthropicToChat } from "../formats/anthropic/request.ts";
import { chatToAnthropic } from "../formats/anthropic/answer.ts";
import { type AnthropicEvent, createAnthropicStreamEncoder } from "../formats/anthropic/stream.ts";
import { jsonErrorResponse } from "./errors.ts";
import { type CallError, invalid, parseFallbacksHeader, startCall } from "./call.ts";
import { runChat } from "./pipeline.ts";
import { readRequest } from "./request.ts";
import {
  type CommittedStream,
  midStreamMessage,
  relayStream,
  SSE_HEADERS,
  sseFrame,
} from "./stream.ts";
import { callSignal } from "./signal.ts";

export function mountAnthropic(app: Hono, gw: Gateway): void {
  app.post("/anthropic/v1/messages", messages(gw));
  // Anything else under the prefix (count_tokens, models, batches …) is not served yet: say so
  // in Anthropic's shape, so its SDKs raise a NotFoundError with a readable message.
  app.all("/anthropic/*", (c) => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const path = new URL(c.req.url).pathname;
    return errorAnswer(
      invalid(start, 404, `The gateway does not serve ${c.req.method} ${path}.`, "not_found"),
    );
  });
}

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

function messages(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    // Credentials: the SDKs send `x-api-key` or `Authorization: Bearer …`; both are accepted and
    // not checked today (the gateway holds the upstream keys). Virtual keys will check them.
    const start = startCall(gw, c.req.header("x-request-id"));
    const req = await readRequest(
      gw,
      start,
      c.req.raw,
      (json) => anthropicToChat(json, parseFallbacksHeader(c.req.header("x-gateway-fallbacks"))),
    );
    if (!req.ok) return errorAnswer(req);
    const out = await runChat(gw, start, req.value, callSignal(c), req.length);
    if (!out.ok) return errorAnswer(out);
    if (out.kind === "json") {
      const headers = withRequestId(out.headers);
      headers.set("content-type", "application/json");
      const message = { ...chatToAnthropic(out.completion), extra_fields: out.extra };
      return new Response(JSON.stringify(message), { status: 200, headers });
    }
    return anthropicSse(out, req.value.model);
  };
}

const frame = (e: AnthropicEvent) => sseFrame(e.data, e.event);

/**
 * A failure after the first event ends the stream with Anthropic's `event: error` and no
 * message_stop, so the SDKs raise instead of returning a truncated message.
 */
function anthropicSse(out: CommittedStream, model: string): Response {
  const requestId = out.headers["x-request-id"] ?? "";
  const encoder = createAnthropicStreamEncoder({ id: requestId, model });
  const body = relayStream(out, {
    push: (chunk) => encoder.push(chunk).map(frame),
    end: () => encoder.finish().map(frame),
    async failed(e) {
      // Anything but a StreamFailure is this route's own (a chunk the encoder cannot express):
      // its message is told as it is, and the upstream, still open, is stopped.
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
  });
  return new Response(body, {
    status: 200,
    headers: withRequestId({ ...SSE_HEADERS, ...out.headers }),
  });
}

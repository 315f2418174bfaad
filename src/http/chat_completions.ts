// POST /v1/chat/completions: OpenAI's wire format around the shared pipeline. Streams are relayed
// as OpenAI SSE; a mid-stream failure ends with an OpenAI-shaped `event: error` and no [DONE].
import type { Context } from "hono";
import type { Gateway } from "../gateway.ts";
import type { ChatChunk } from "../openai/types.ts";
import { validateChatRequest } from "../openai/validate.ts";
import { errorBody, errorResponse } from "./errors.ts";
import { type CallError, parseFallbacksHeader, startCall } from "./call.ts";
import { runChat } from "./pipeline.ts";
import { readRequest } from "./request.ts";
import {
  type CommittedStream,
  midStreamMessage,
  relayStream,
  SSE_HEADERS,
  sseFrame,
  streamFailureOf,
} from "./stream.ts";
import { callSignal } from "./signal.ts";
import { sourceOf } from "../providers/json.ts";

export function openaiError(e: CallError): Response {
  return errorResponse(e.status, e.message, e.type, e.code, {
    param: e.param,
    headers: e.headers,
    retryAfterMs: e.retryAfterMs,
  });
}

export function chatCompletions(gw: Gateway) {
  return async (c: Context): Promise<Response> => {
    const start = startCall(gw, c.req.header("x-request-id"));
    const body = await readRequest(gw, start, c.req.raw, validateChatRequest);
    if (!body.ok) return openaiError(body);
    const req = body.value;
    if (!req.fallbacks) {
      const fromHeader = parseFallbacksHeader(c.req.header("x-gateway-fallbacks"));
      if (fromHeader.length) req.fallbacks = fromHeader;
    }
    const out = await runChat(gw, start, req, callSignal(c), body.length);
    if (!out.ok) return openaiError(out);
    if (out.kind === "json") {
      return c.json({ ...out.completion, extra_fields: out.extra }, 200, out.headers);
    }
    return openaiSse(out, req.stream_options?.include_usage === true);
  };
}

/** OpenAI SSE; the trailing usage chunk (no choices) only when the client asked for it. */
function openaiSse(out: CommittedStream, wantUsage: boolean): Response {
  const keep = (c: ChatChunk) => wantUsage || c.choices.length > 0;
  const body = relayStream(out, {
    push: (chunk) => keep(chunk) ? [sseFrame(sourceOf(chunk) ?? chunk)] : [],
    end: () => [sseFrame("[DONE]")],
    failed: (e) => {
      const f = streamFailureOf(e);
      const message = midStreamMessage(out.provider, f.message);
      return [sseFrame(errorBody(message, f.kind, "upstream_stream_error"), "error")];
    },
  });
  return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...out.headers } });
}
